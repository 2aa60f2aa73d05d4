"""Sign in and out with Django's own views, under the pages' policy."""

from django.contrib.auth import views as auth_views

from web.security import csp

# Without ?next=, a sign-in lands on the sessions list (Django's default is /accounts/profile/,
# which Depot does not have).
login = csp(auth_views.LoginView.as_view(template_name="web/login.html", next_page="/"))
logout = csp(auth_views.LogoutView.as_view(next_page="/login/"))
