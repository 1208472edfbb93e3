"""Migration scripts, applied in revision order by ``upgrade_schema``."""
