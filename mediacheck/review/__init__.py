"""Notes, verdicts and four-eyes review; reverse-search links and keyframe export."""
