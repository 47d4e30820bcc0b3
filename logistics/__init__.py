"""GLEC Framework v3 / ISO 14083 logistics emissions engine."""
