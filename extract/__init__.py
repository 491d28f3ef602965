"""Get the EdReflect Offboarding Data Product (SFTP or a folder) and land every CSV raw in DuckDB.

`contract` reads the data product contract, `sftp` and `fetch` download the product safely, `load` lands
it in the `raw` schema with lineage, a load manifest and every rejected row accounted for.
"""
