package io.omnibus.core;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noMethods;

/** The dependency direction of DESIGN.md §1 and the no-lock rule of §3, checked on the bytecode. */
class ArchitectureTest {
    private static final JavaClasses CORE = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.omnibus.core");

    @Test
    void theSpiDependsOnNothingInternal() {
        noClasses().that().resideInAPackage("io.omnibus.core.spi..")
                .should().dependOnClassesThat().resideInAnyPackage("io.omnibus.core.internal..", "io.omnibus.core.store..",
                        "io.omnibus.core.config..", "io.netty..")
                .check(CORE);
    }

    @Test
    void noSynchronizedMethods() {
        noMethods().should().haveModifier(JavaModifier.SYNCHRONIZED).allowEmptyShould(true).check(CORE);
    }

    @Test
    void nettyBuffersDoNotCrossTheCore() {
        // the transport package is adapters' socket plumbing (its frames are ByteBufs); the broker never sees one
        noClasses().that().resideOutsideOfPackage("io.omnibus.core.transport..").should().dependOnClassesThat()
                .haveFullyQualifiedName("io.netty.buffer.ByteBuf").check(CORE);
    }
}
