"""voicecoach: coaches a person through an exercise routine by voice, hands-free.

Data flows one way: routine -> timeline -> speech -> render -> play / export.
"""

__version__ = "0.1.0"
