"""Developer tooling: the Inngest driver, API Gateway events, the local main job.

Never imported by the Lambda handler and not shipped in the deployed package.
"""
