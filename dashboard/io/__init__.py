"""Readers and writers. Validate once here, rename to canonical names, raise DecentraError."""

from dashboard.io.safety import harden_gdal

harden_gdal()        # before any file is read: GDAL never reaches the network
