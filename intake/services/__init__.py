"""Every change of a prescription goes through these services (one durable transaction each)."""
