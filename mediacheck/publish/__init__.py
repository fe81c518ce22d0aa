"""What leaves the desk: case documents, reports, MediaReview, bundles and archive exports."""
