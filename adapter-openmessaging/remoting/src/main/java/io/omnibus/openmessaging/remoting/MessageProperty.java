package io.omnibus.openmessaging.remoting;

/** The names of RocketMQ's system message properties that the gateway and the OpenMessaging driver read or write. */
public final class MessageProperty {
    public static final String TAGS = "TAGS";
    public static final String KEYS = "KEYS";
    /** The producer's message id. */
    public static final String UNIQ_KEY = "UNIQ_KEY";
    /** A delay level (1-based). */
    public static final String DELAY = "DELAY";
    /** "true" on a half (transactional) message. */
    public static final String TRAN_MSG = "TRAN_MSG";
    /** The producer group of a half message, for check-backs. */
    public static final String PGROUP = "PGROUP";
    public static final String CORRELATION_ID = "CORRELATION_ID";
    /** The topic a message on a retry topic came from. */
    public static final String RETRY_TOPIC = "RETRY_TOPIC";
    public static final String ORIGIN_MESSAGE_ID = "ORIGIN_MESSAGE_ID";
    public static final String MAX_RECONSUME_TIMES = "MAX_RECONSUME_TIMES";
    /** RocketMQ 5's timer messages: deliver at (ms epoch), or after (s / ms). */
    public static final String TIMER_DELIVER_MS = "TIMER_DELIVER_MS";
    public static final String TIMER_DELAY_SEC = "TIMER_DELAY_SEC";
    public static final String TIMER_DELAY_MS = "TIMER_DELAY_MS";
    /** OpenMessaging's start deliver time (ms epoch). */
    public static final String START_DELIVER_TIME = "__STARTDELIVERTIME";
    /** OpenMessaging's (and RocketMQ 5's) sharding key. */
    public static final String SHARDING_KEY = "__SHARDINGKEY";

    private MessageProperty() {
    }
}
