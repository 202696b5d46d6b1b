"""Dashboard users: email + password, role owner|member, one organisation each."""
