"""Projects: an organisation's folders of suites and scorers, addressed by slug."""
