package io.omnibus.core.store;

import java.util.List;

/**
 * A subscription cursor's persistent form: every offset below {@code ackedBelow} is acknowledged,
 * and so is every offset in the individually acknowledged ranges above it ({@code [from, to)} pairs,
 * sorted, disjoint, not touching {@code ackedBelow}).
 */
public record CursorState(long ackedBelow, List<long[]> ackedRanges) {
    public CursorState {
        ackedRanges = List.copyOf(ackedRanges);
    }
}
