"""Massicot: dematerialised correction of written exams. This package is the roof: the `massicot`
command, which mounts every part's commands, and the demo; no other package of the product imports it.
"""

__version__ = "0.1.0"
