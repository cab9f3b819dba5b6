"""Development tools for linky-tic: simulated meters, the frame encoder, serving a line, and the TIC command line.

They live beside the integration, not in the folder HACS installs, and never import Home Assistant. They use the
protocol library `linky_tic` through its public API only (in this repository, `linky_tic` at the top is a link to the
integration's vendored copy).
"""
