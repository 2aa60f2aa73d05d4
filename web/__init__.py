"""Web pages for people: the sessions list, a session's live page, an artifact's page and a
namespace search, behind Django's login, acting in the user's organization (a Membership).

The pages read through the apps' selectors and write through their services; the browser's
uploads, live feed and zip go straight to the public API (the session cookie and the CSRF
token authenticate them). Nothing here imports `config`, and no app imports this one."""
