package io.omnibus.bench;

/**
 * What the load generators built on event loops share around their rounds: an unreported warm-up round before the
 * measured one, and a main that ends the process (Vert.x's and Netty's event-loop threads are not daemons: without the
 * exit, a failed run would never end).
 */
final class Rounds {
    private Rounds() {
    }

    /** One round: {@code count} messages per sender; {@code number} 0 for the warm-up, 1 for the measured round. */
    interface Round {
        String run(int count, int number) throws Exception;
    }

    /** A load's body. */
    interface Load {
        void run() throws Exception;
    }

    /** Runs {@code load} and exits: 0 once it is done, 1 with its error printed. */
    static void exitAfter(Load load) {
        try {
            load.run();
            System.exit(0);
        } catch (Throwable t) {
            t.printStackTrace();
            System.exit(1);
        }
    }

    /**
     * Prints the summary line of the measured round of {@code each}, after a warm-up round of {@code warmup} (none
     * when 0), followed by {@code described} (the load's settings); a warm-up that lost messages is the finding, and
     * is printed instead.
     */
    static void warmThenMeasure(int warmup, int each, String described, Round round) throws Exception {
        if (warmup > 0) {
            String warm = round.run(warmup, 0);
            if (!warm.contains("(lossless)")) {
                System.out.println(warm + " (in the warm-up round)");
                return;
            }
        }
        System.out.println(round.run(each, 1) + " (" + described
                + (warmup > 0 ? "; after a warm-up round of " + warmup + " each" : "; cold") + ")");
    }
}
