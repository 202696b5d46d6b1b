"""Who is calling: API keys, JWTs (built-in login and OIDC), per-IP limits and lockout."""
