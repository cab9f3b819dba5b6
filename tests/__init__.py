"""Tests of the Linky Local integration."""
