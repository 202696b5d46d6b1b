"""The audit log: who did what to a credential, and when — never the secret itself."""
