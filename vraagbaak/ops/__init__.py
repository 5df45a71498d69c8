"""Operations: launcher, settings, processes, nginx and deploy files, cluster, demo web server."""
