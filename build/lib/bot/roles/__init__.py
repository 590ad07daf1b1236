"""Roles (coordinator, facilitator), invites, sharing with coordinators, and groups."""
