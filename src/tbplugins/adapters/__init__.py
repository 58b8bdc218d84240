"""Built-in array adapters: numpy (the fallback), torch and JAX, each its own plugin."""
