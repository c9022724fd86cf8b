"""Who may do what: scoped API keys, signed confirmation tokens, which network
addresses the app may call."""
