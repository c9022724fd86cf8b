"""AI providers: embeddings and an LLM, each Bedrock in AWS and offline locally."""
