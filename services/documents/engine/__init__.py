"""Uwagi document engine (pure library; see docs/document-engine.md)."""
