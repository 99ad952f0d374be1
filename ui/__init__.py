"""Streamlit-side helpers: cached wrappers around `loaders` and `risk` (nothing else)."""
