package io.omnibus.server;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Kafka store against a Kafka cluster that takes SASL clients only (SASL/PLAIN): {@code store.kafka.properties}
 * reach every Kafka client the store makes (producers, readers, the state loader, the active-node lease, the admin
 * client); a wrong password stops the gateway at start with Kafka's own reason, not later with lost messages.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class KafkaStoreSaslIT {
    @TempDir
    Path dir;

    private static final String JAAS = "org.apache.kafka.common.security.plain.PlainLoginModule required "
            + "username=\"%s\" password=\"%s\";";

    private Path config(int kafkaPort, int mqttPort, String password) throws Exception {
        return GatewayYaml.kafkaStore("127.0.0.1:" + kafkaPort, "properties:\n  security.protocol: SASL_PLAINTEXT\n"
                + "  sasl.mechanism: PLAIN\n  sasl.jaas.config: '" + JAAS.formatted("omnibus", password) + "'")
                .mqtt(mqttPort).write(dir.resolve(password));
    }

    /** A one-broker Kafka that takes SASL/PLAIN clients only (users admin and omnibus), with {@code extra} settings. */
    private List<RemoteBroker> saslKafka(int port, Map<String, String> extra) throws Exception {
        Map<String, String> settings = new java.util.HashMap<>(Map.of(
                "listeners", "SASL_PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}",
                "advertised.listeners", "SASL_PLAINTEXT://127.0.0.1:{port}",
                "listener.security.protocol.map", "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
                "inter.broker.listener.name", "SASL_PLAINTEXT",
                "sasl.enabled.mechanisms", "PLAIN",
                "sasl.mechanism.inter.broker.protocol", "PLAIN",
                "listener.name.sasl_plaintext.plain.sasl.jaas.config",
                "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"admin\" "
                        + "password=\"admin-secret\" user_admin=\"admin-secret\" user_omnibus=\"omnibus-secret\";"));
        settings.putAll(extra);
        return RemoteBroker.kafkaCluster(dir.resolve("kafka"), new int[] {port}, new int[] {RemoteBroker.freePort()},
                settings);
    }

    @Test
    void saslSettingsReachEveryKafkaClientAndAWrongPasswordStopsTheStart() throws Exception {
        int port = RemoteBroker.freePort();
        List<RemoteBroker> kafka = saslKafka(port, Map.of());
        try {
            int mqtt = GatewayProcess.freePort();
            try (GatewayProcess wrong = GatewayProcess.run(Map.of(), "start", "--config",
                    config(port, mqtt, "not-the-password").toString(), "--data-dir", dir.resolve("d1").toString())) {
                assertThat(wrong.waitForExit(120)).as("exit status; stderr " + wrong.stderr()).isEqualTo(1);
                assertThat(wrong.stderr()).contains("omnibus: could not start").contains("Authentication failed");
            }
            NewNodeBacklog.check(config(port, mqtt, "omnibus-secret"), mqtt, dir.resolve("sasl"), "sasl", 100);
        } finally {
            for (RemoteBroker k : kafka) {
                k.close();
            }
        }
    }

    /**
     * A broker that authorizes (KRaft's StandardAuthorizer, nothing allowed without an ACL): the store's user with no
     * ACLs cannot start (Kafka's reason, exit 1); with the ACLs docs/cluster.md lists, and no others, it starts, stores
     * and a new node reads the backlog back.
     */
    @Test
    void theAclsTheDocsListAreTheOnesTheStoreNeeds() throws Exception {
        int port = RemoteBroker.freePort();
        List<RemoteBroker> kafka = saslKafka(port, Map.of(
                "authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                "super.users", "User:admin;User:ANONYMOUS")); // ANONYMOUS: the broker and its controller, over PLAINTEXT
        try {
            int mqtt = GatewayProcess.freePort();
            try (GatewayProcess denied = GatewayProcess.run(Map.of(), "start", "--config",
                    config(port, mqtt, "omnibus-secret").toString(), "--data-dir", dir.resolve("a1").toString())) {
                assertThat(denied.waitForExit(120)).as("exit status; stderr " + denied.stderr()).isEqualTo(1);
                assertThat(denied.stderr()).contains("omnibus: could not start").containsIgnoringCase("authoriz");
            }
            try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(Map.of(
                    "bootstrap.servers", "127.0.0.1:" + port, "security.protocol", "SASL_PLAINTEXT",
                    "sasl.mechanism", "PLAIN", "sasl.jaas.config", JAAS.formatted("admin", "admin-secret")))) {
                admin.createAcls(storeAcls("User:omnibus", "omnibus.")).all().get(60, TimeUnit.SECONDS);
            }
            NewNodeBacklog.check(config(port, mqtt, "omnibus-secret"), mqtt, dir.resolve("acl"), "acl", 50);
        } finally {
            for (RemoteBroker k : kafka) {
                k.close();
            }
        }
    }

    /** The ACLs docs/cluster.md gives the store's user, for topic prefix {@code prefix}. */
    private static List<org.apache.kafka.common.acl.AclBinding> storeAcls(String principal, String prefix) {
        List<org.apache.kafka.common.acl.AclBinding> acls = new java.util.ArrayList<>();
        java.util.function.BiConsumer<org.apache.kafka.common.resource.ResourcePattern,
                org.apache.kafka.common.acl.AclOperation> allow = (resource, operation) -> acls.add(
                new org.apache.kafka.common.acl.AclBinding(resource, new org.apache.kafka.common.acl.AccessControlEntry(
                        principal, "*", operation, org.apache.kafka.common.acl.AclPermissionType.ALLOW)));
        var topics = new org.apache.kafka.common.resource.ResourcePattern(org.apache.kafka.common.resource.ResourceType.TOPIC,
                prefix, org.apache.kafka.common.resource.PatternType.PREFIXED);
        var group = new org.apache.kafka.common.resource.ResourcePattern(org.apache.kafka.common.resource.ResourceType.GROUP,
                prefix + "nodes", org.apache.kafka.common.resource.PatternType.LITERAL);
        var tx = new org.apache.kafka.common.resource.ResourcePattern(
                org.apache.kafka.common.resource.ResourceType.TRANSACTIONAL_ID, prefix + "tx",
                org.apache.kafka.common.resource.PatternType.LITERAL);
        var cluster = new org.apache.kafka.common.resource.ResourcePattern(
                org.apache.kafka.common.resource.ResourceType.CLUSTER, "kafka-cluster",
                org.apache.kafka.common.resource.PatternType.LITERAL);
        for (var op : List.of(org.apache.kafka.common.acl.AclOperation.CREATE, org.apache.kafka.common.acl.AclOperation.DESCRIBE,
                org.apache.kafka.common.acl.AclOperation.READ, org.apache.kafka.common.acl.AclOperation.WRITE,
                org.apache.kafka.common.acl.AclOperation.DELETE, org.apache.kafka.common.acl.AclOperation.ALTER)) {
            allow.accept(topics, op);
        }
        allow.accept(group, org.apache.kafka.common.acl.AclOperation.READ);
        allow.accept(group, org.apache.kafka.common.acl.AclOperation.DESCRIBE);
        allow.accept(tx, org.apache.kafka.common.acl.AclOperation.WRITE);
        allow.accept(tx, org.apache.kafka.common.acl.AclOperation.DESCRIBE);
        allow.accept(cluster, org.apache.kafka.common.acl.AclOperation.IDEMPOTENT_WRITE);
        return acls;
    }
}
