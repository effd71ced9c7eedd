package io.omnibus.openmessaging;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noMethods;

/** The adapter's boundaries (DESIGN.md, sections 1 and 3). */
class OpenMessagingArchitectureTest {
    private final JavaClasses classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.omnibus.openmessaging");

    @Test
    void onlyTheCoresSpiAndTransportAreUsed() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("io.omnibus.core.internal..", "io.omnibus.core.store..",
                "io.omnibus.core.config..", "io.omnibus.kafka..", "io.omnibus.mqtt..", "io.omnibus.amqp..", "org.apache.rocketmq..").check(classes);
    }

    @Test
    void theRemotingCodecNeedsNeitherNettyNorTheGateway() {
        noClasses().that().resideInAPackage("io.omnibus.openmessaging.remoting..").should().dependOnClassesThat()
                .resideInAnyPackage("io.netty..", "io.vertx..", "io.omnibus.core..", "io.omnibus.openmessaging")
                .check(classes);
    }

    @Test
    void noSynchronizedMethods() {
        noMethods().should().haveModifier(JavaModifier.SYNCHRONIZED).allowEmptyShould(true).check(classes);
    }
}
