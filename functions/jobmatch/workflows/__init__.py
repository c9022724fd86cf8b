"""The durable Inngest functions: each module's `create_functions(deps)` orders
steps whose bodies live in the domain packages."""
