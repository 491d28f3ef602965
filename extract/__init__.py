"""edreflect-edfi: extract the EdReflect Offboarding Data Product and land it in DuckDB."""
