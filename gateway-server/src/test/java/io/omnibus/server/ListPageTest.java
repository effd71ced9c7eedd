package io.omnibus.server;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/** The admin lists' pages: name order, a count of what the filter leaves, the name to go on after. */
class ListPageTest {
    private static final List<String> NAMES = List.of("d/2", "a/1", "c/1", "b/2", "e/1");

    @Test
    void pagesWalkTheWholeListInNameOrderAndTheLastSaysThereIsNoMore() {
        ListPage.Result<String> first = new ListPage(2, null, null).apply(NAMES, Function.identity());
        assertThat(first.items()).containsExactly("a/1", "b/2");
        assertThat(first.total()).isEqualTo(5);
        assertThat(first.nextAfter()).isEqualTo("b/2");
        ListPage.Result<String> second = new ListPage(2, "b/2", null).apply(NAMES, Function.identity());
        assertThat(second.items()).containsExactly("c/1", "d/2");
        ListPage.Result<String> last = new ListPage(2, "d/2", null).apply(NAMES, Function.identity());
        assertThat(last.items()).containsExactly("e/1");
        assertThat(last.nextAfter()).isNull();
        // a name that is gone since the page before: the next page starts after where it was
        assertThat(new ListPage(2, "b/9", null).apply(NAMES, Function.identity()).items()).containsExactly("c/1", "d/2");
    }

    @Test
    void containsKeepsNamesHoldingItInAnyCaseAndCountsThoseOnly() {
        ListPage.Result<String> r = new ListPage(1, null, "/1").apply(NAMES, Function.identity());
        assertThat(r.items()).containsExactly("a/1");
        assertThat(r.total()).isEqualTo(3);
        assertThat(new ListPage(null, null, "E/").apply(NAMES, Function.identity()).items()).containsExactly("e/1");
    }

    @Test
    void withoutALimitTheListIsWhole() {
        ListPage.Result<String> all = new ListPage(null, null, null).apply(NAMES, Function.identity());
        assertThat(all.items()).hasSize(5);
        assertThat(all.nextAfter()).isNull();
        assertThat(new ListPage(2, null, null).nextLink("/api/topics", "a b/1"))
                .isEqualTo("</api/topics?limit=2&after=a%20b%2F1>; rel=\"next\"");
    }
}
