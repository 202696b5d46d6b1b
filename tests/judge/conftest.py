from tests.byok.conftest import fake_provider, papi, provider_app  # noqa: F401  (shared fixtures)
