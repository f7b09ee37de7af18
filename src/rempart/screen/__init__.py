"""Country-scale screening (issue 16): find crowded public spaces in OSM and cut them into tiles.

Done so far: :mod:`.candidates` (finding the sites) and :mod:`.tiles` (clustering them into tiles
with a halo). The Dask runner, tile extraction and outputs are not built yet (docs/screening.md).
"""
