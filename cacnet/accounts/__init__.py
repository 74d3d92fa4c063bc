"""Users, sessions, password reset, invitations of colleagues and signing authority."""
