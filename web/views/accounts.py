"""Sign in and out with Django's own views, under the pages' policy."""

from django.contrib.auth import views as auth_views

from web.security import csp

login = csp(auth_views.LoginView.as_view(template_name="web/login.html"))
logout = csp(auth_views.LogoutView.as_view(next_page="/login/"))
