"""Deployment tooling run by the deploy workflow and by hand: `infra.preflight`
checks an account before a deploy, `infra.bootstrap` fills the app secret."""
