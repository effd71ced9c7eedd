package io.omnibus.core.spi;

/**
 * Decides what an authenticated client may do, for every protocol alike: adapters ask before they publish,
 * subscribe, join a consumer group or change topics, and refuse in their own protocol's words. Answers come
 * from memory (rules in the configuration), so adapters call it on their event loop.
 */
public interface Authorizer {
    /** What is asked for. */
    enum Action {
        /** Send to an address (the resource is the address's canonical name). */
        PUBLISH,
        /** Receive from an address or a filter (the resource is the canonical filter). */
        SUBSCRIBE,
        /** Use a consumer group's state: join it, commit or read its offsets (the resource is the group name). */
        CONSUMER_GROUP,
        /**
         * Connect under a client id (the resource) that holds session state (MQTT): allowed unless a rule that applies
         * to the user lists {@code client-ids} and none of them matches.
         */
        CLIENT_ID,
        /** Create, delete or reconfigure addresses; read the admin API's data (no resource). */
        ADMIN_READ,
        /** Change things through the admin API (no resource). */
        ADMIN_OPERATE
    }

    /** Lets everybody do everything: the configuration has no {@code acl}. */
    Authorizer ALLOW_ALL = new Authorizer() {
        @Override
        public boolean allows(String user, String clientId, Action action, String resource) {
            return true;
        }

        @Override
        public boolean enforced() {
            return false;
        }
    };

    /**
     * Whether {@code user} (null: anonymous), connected as {@code clientId} (null where the protocol has none),
     * may do {@code action} on {@code resource}. A resource that is not a valid name or filter is refused.
     */
    boolean allows(String user, String clientId, Action action, String resource);

    /** Whether any rule applies at all; false lets adapters skip asking. */
    boolean enforced();
}
