"""BPCKPT's segments: which blocks are recomputed together from one stored input."""
import math


def default_segment_size(num_blocks):
    """round(sqrt(blocks)) blocks per segment (Chen et al. 2016)."""
    return max(1, round(math.sqrt(num_blocks)))


def segment_bounds(num_blocks, segment_size):
    """[(start, stop)] block index ranges of uniform segments, in forward order."""
    return [(start, min(start + segment_size, num_blocks)) for start in range(0, num_blocks, segment_size)]
