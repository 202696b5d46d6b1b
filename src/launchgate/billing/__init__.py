"""Plans, monthly usage and retention (SPEC §9)."""
