"""The app's developer tools (demo, sample data, local serve, OCDS publisher), built on
the app-agnostic `inngest_harness`.

Never imported by the Lambda handler and not shipped in the deployed package.
"""
