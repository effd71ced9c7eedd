package io.omnibus.amqp;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noMethods;

/** DESIGN.md §1: an adapter uses only the core's spi package; §3: no locks. */
class AmqpArchitectureTest {
    private static final JavaClasses AMQP = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.omnibus.amqp");

    @Test
    void theAdapterUsesOnlyTheSpi() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("io.omnibus.core.internal..",
                "io.omnibus.core.store..", "io.omnibus.core.config..").check(AMQP);
    }

    @Test
    void noSynchronizedMethods() {
        noMethods().should().haveModifier(JavaModifier.SYNCHRONIZED).allowEmptyShould(true).check(AMQP);
    }
}
