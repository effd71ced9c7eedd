package io.omnibus.kafka;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noMethods;

/** DESIGN.md §1: an adapter uses only the core's spi package (and its transport); §3: no locks. */
class KafkaArchitectureTest {
    private static final JavaClasses KAFKA = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.omnibus.kafka");

    @Test
    void theAdapterUsesOnlyTheSpi() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("io.omnibus.core.internal..",
                "io.omnibus.core.store..", "io.omnibus.core.config..", "io.omnibus.amqp..", "io.omnibus.mqtt..")
                .check(KAFKA);
    }

    @Test
    void noSynchronizedMethods() {
        noMethods().should().haveModifier(JavaModifier.SYNCHRONIZED).allowEmptyShould(true).check(KAFKA);
    }
}
