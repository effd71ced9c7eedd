package io.omnibus.server;

import io.vertx.ext.web.RoutingContext;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * One page of an admin list ({@code /api/topics}, {@code /api/subscriptions}, {@code /api/connections}), asked with
 * {@code ?limit=N} (at most {@link #MAX_LIMIT}), {@code after=NAME} (the last name of the page before) and
 * {@code contains=TEXT} (names holding it, any case). Items come in name order. Without {@code limit} the list is
 * whole, as before paging existed. The answer's {@code X-Total-Count} header counts the items {@code contains}
 * leaves, and {@code Link: <...>; rel="next"} names the next page while there is one.
 */
record ListPage(Integer limit, String after, String contains) {
    static final int MAX_LIMIT = 10_000;

    /** What the request asks for, or null after answering 400 for a bad {@code limit}. */
    static ListPage of(RoutingContext ctx) {
        String limit = ctx.request().getParam("limit");
        Integer n = null;
        if (limit != null && !limit.isBlank()) {
            try {
                n = Integer.parseInt(limit.trim());
            } catch (NumberFormatException e) {
                n = -1;
            }
            if (n < 1 || n > MAX_LIMIT) {
                AdminApi.error(ctx, 400, "limit must be a number from 1 to " + MAX_LIMIT + ": " + limit);
                return null;
            }
        }
        return new ListPage(n, AdminApi.param(ctx, "after", null), AdminApi.param(ctx, "contains", null));
    }

    /** The items of this page, and what the headers say about the rest. */
    record Result<T>(List<T> items, int total, String nextAfter) {
    }

    <T> Result<T> apply(List<T> all, Function<T, String> name) {
        String needle = contains == null ? null : contains.toLowerCase(Locale.ROOT);
        List<T> kept = new ArrayList<>(needle == null ? all.size() : 16);
        for (T t : all) {
            if (needle == null || name.apply(t).toLowerCase(Locale.ROOT).contains(needle)) {
                kept.add(t);
            }
        }
        kept.sort(Comparator.comparing(name));
        int from = 0;
        if (after != null) {
            while (from < kept.size() && name.apply(kept.get(from)).compareTo(after) <= 0) {
                from++;
            }
        }
        int to = limit == null ? kept.size() : Math.min(kept.size(), from + limit);
        String next = to < kept.size() && to > from ? name.apply(kept.get(to - 1)) : null;
        return new Result<>(kept.subList(from, to), kept.size(), next);
    }

    /** The request's path with {@code after} moved on to the page after {@code nextAfter}. */
    String nextLink(String path, String nextAfter) {
        StringBuilder b = new StringBuilder(path).append("?limit=").append(limit)
                .append("&after=").append(encode(nextAfter));
        if (contains != null) {
            b.append("&contains=").append(encode(contains));
        }
        return "<" + b + ">; rel=\"next\"";
    }

    private static String encode(String s) {
        return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
    }
}
