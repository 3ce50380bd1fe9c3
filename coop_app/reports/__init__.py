"""Reports that read every feature's data and that no feature imports."""
