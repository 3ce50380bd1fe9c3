"""The member registry: members, villages, status lifecycle, migrant profiles, import/export."""
