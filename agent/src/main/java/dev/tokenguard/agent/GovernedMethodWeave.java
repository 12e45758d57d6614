package dev.tokenguard.agent;

import dev.tokenguard.instrumentation.Hook;
import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.jar.asm.ClassVisitor;
import net.bytebuddy.jar.asm.ClassWriter;
import net.bytebuddy.jar.asm.Label;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;
import net.bytebuddy.jar.asm.Type;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Weaves the one advice shape every plugin shares into the hooked methods of a class file, with
 * the ASM that Byte Buddy carries and nothing else of Byte Buddy: building its {@code AgentBuilder}
 * and {@code Advice} machinery loaded some 1,200 classes before an application's first call, this
 * loads about 20. A hooked method becomes, in effect:
 *
 * <pre>
 * Object call;
 * try {
 *     call = TokenGuardBridge.enter("Type.method", this, request);   // request: per Hook.Shape
 *     request = (Request) TokenGuardBridge.request(call, request);   // the arguments it may replace
 * } catch (Throwable t) {
 *     call = null;
 * }
 * Throwable thrown; Result returned;
 * if (call instanceof BudgetExhaustedException) {                    // refused: the body never runs
 *     thrown = null; returned = default;
 * } else {
 *     try { ...the original body, each return storing into returned...; thrown = null; }
 *     catch (Throwable t) { thrown = t; returned = default; }
 * }
 * try {
 *     returned = (Result) TokenGuardBridge.exit(call, returned, thrown);
 *     thrown = TokenGuardBridge.thrown(call, thrown);
 * } catch (Throwable ignored) {
 * }
 * if (thrown != null) throw thrown;
 * return returned;
 * </pre>
 *
 * which is what Byte Buddy's {@code Advice} inlined before (enter and exit advice with
 * {@code suppress = Throwable.class}, {@code skipOn = BudgetExhaustedException.class}, writable
 * arguments and return value with dynamic typing). The refusal escapes the suppression because
 * {@code thrown} returns it as the method's own exception.
 *
 * <p>No class is loaded to weave: the new locals sit above the method's own ({@code max_locals}
 * of the original, read in a first pass), so the original instructions and their local variable
 * slots stay as they are; each original stack map frame gets the {@code call} local appended, and
 * the frames of the woven code are written from the method descriptor. The class keeps its members
 * and their signatures, as retransformation requires.
 */
final class GovernedMethodWeave {
    private static final String BRIDGE = "dev/tokenguard/bootstrap/TokenGuardBridge";
    private static final String REFUSAL = "dev/tokenguard/api/BudgetExhaustedException";
    private static final String OBJECT = "java/lang/Object";
    private static final String THROWABLE = "java/lang/Throwable";
    /** Enough operand stack for the woven code: an argument array being filled with a boxed long, under the call. */
    private static final int WOVEN_MAX_STACK = 8;

    private GovernedMethodWeave() {
    }

    /**
     * The class file with {@code hooks}' methods woven, or null when none of its methods is hooked.
     * {@code typeName} is the binary name ({@code a.b.C$D}) the call sites are named after.
     */
    static byte[] weave(byte[] classFile, String typeName, List<Hook> hooks) {
        return weave(classFile, typeName, hooks, BRIDGE);
    }

    /** As {@link #weave(byte[], String, List)}, calling the static methods of {@code bridge} (an internal name). */
    static byte[] weave(byte[] classFile, String typeName, List<Hook> hooks, String bridge) {
        ClassReader reader = new ClassReader(classFile);
        Map<String, Integer> maxLocals = new HashMap<>();
        reader.accept(new ClassVisitor(Opcodes.ASM9) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
                                             String[] exceptions) {
                if (hookOf(hooks, access, name, descriptor) == null) {
                    return null;
                }
                return new MethodVisitor(Opcodes.ASM9) {
                    @Override
                    public void visitMaxs(int maxStack, int locals) {
                        maxLocals.put(name + descriptor, locals);
                    }
                };
            }
        }, ClassReader.SKIP_DEBUG | ClassReader.SKIP_FRAMES);
        if (maxLocals.isEmpty()) {
            return null;
        }
        ClassWriter writer = new ClassWriter(reader, 0);
        reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
            private String internalName;
            private boolean frames;

            @Override
            public void visit(int version, int access, String name, String signature, String superName,
                              String[] interfaces) {
                internalName = name;
                frames = (version & 0xFFFF) >= Opcodes.V1_6;
                super.visit(version, access, name, signature, superName, interfaces);
            }

            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
                                             String[] exceptions) {
                MethodVisitor next = super.visitMethod(access, name, descriptor, signature, exceptions);
                Integer locals = maxLocals.get(name + descriptor);
                Hook hook = locals == null ? null : hookOf(hooks, access, name, descriptor);
                return hook == null ? next : new GovernedMethod(next, internalName, hook.shape(),
                        typeName + "." + name, descriptor, locals, frames, bridge);
            }
        }, ClassReader.EXPAND_FRAMES);
        return writer.toByteArray();
    }

    /**
     * The hook whose methods include this one: of the declared names and parameter count, public or protected,
     * an instance method with code. The first such hook, if several would match.
     */
    static Hook hookOf(List<Hook> hooks, int access, String name, String descriptor) {
        if ((access & (Opcodes.ACC_PUBLIC | Opcodes.ACC_PROTECTED)) == 0
                || (access & (Opcodes.ACC_STATIC | Opcodes.ACC_ABSTRACT | Opcodes.ACC_NATIVE)) != 0) {
            return null;
        }
        for (Hook hook : hooks) {
            if (hook.methods().contains(name) && parameterCount(descriptor) == hook.parameterCount()) {
                return hook;
            }
        }
        return null;
    }

    /** How many parameters a method descriptor declares. */
    static int parameterCount(String descriptor) {
        int count = 0;
        int i = 1;
        while (descriptor.charAt(i) != ')') {
            char c = descriptor.charAt(i);
            while (c == '[') {
                c = descriptor.charAt(++i);
            }
            if (c == 'L') {
                i = descriptor.indexOf(';', i);
            }
            i++;
            count++;
        }
        return count;
    }

    /** One hooked method being rewritten as the class reader visits it. */
    private static final class GovernedMethod extends MethodVisitor {
        private final String owner;
        private final String bridge;
        private final Hook.Shape shape;
        private final String site;
        private final Type[] arguments;
        private final Type result;
        private final boolean frames;
        /** The method's own {@code max_locals}: the first slot of the woven locals. */
        private final int base;
        private final int call;
        private final int thrown;
        private final int returned;
        private final Label body = new Label();
        private final Label exit = new Label();

        GovernedMethod(MethodVisitor next, String owner, Hook.Shape shape, String site, String descriptor,
                       int maxLocals, boolean frames, String bridge) {
            super(Opcodes.ASM9, next);
            this.owner = owner;
            this.bridge = bridge;
            this.shape = shape;
            this.site = site;
            this.arguments = Type.getArgumentTypes(descriptor);
            this.result = Type.getReturnType(descriptor);
            this.frames = frames;
            this.base = maxLocals;
            this.call = maxLocals;
            this.thrown = maxLocals + 1;
            this.returned = maxLocals + 2;
        }

        @Override
        public void visitCode() {
            super.visitCode();
            Label enterStart = new Label();
            Label enterEnd = new Label();
            Label enterFailed = new Label();
            Label entered = new Label();
            // its range precedes every original instruction, so the order of the exception table does not matter
            super.visitTryCatchBlock(enterStart, enterEnd, enterFailed, THROWABLE);
            super.visitLabel(enterStart);
            super.visitLdcInsn(site);
            super.visitVarInsn(Opcodes.ALOAD, 0);
            switch (shape) {
                case REQUEST, REQUEST_AND_HANDLER -> loadBoxed(0);
                case TARGET -> super.visitInsn(Opcodes.ACONST_NULL);
                case ARGUMENTS -> loadArgumentArray();
            }
            invokeBridge("enter", "(Ljava/lang/String;Ljava/lang/Object;Ljava/lang/Object;)Ljava/lang/Object;");
            super.visitVarInsn(Opcodes.ASTORE, call);
            switch (shape) {
                case REQUEST -> replaceRequest();
                case REQUEST_AND_HANDLER -> {
                    replaceRequest();
                    super.visitVarInsn(Opcodes.ALOAD, call);
                    super.visitInsn(Opcodes.ICONST_1);
                    loadBoxed(1);
                    invokeBridge("argument", "(Ljava/lang/Object;ILjava/lang/Object;)Ljava/lang/Object;");
                    storeUnboxed(1);
                }
                case TARGET -> {
                }
                case ARGUMENTS -> replaceArguments();
            }
            super.visitLabel(enterEnd);
            super.visitJumpInsn(Opcodes.GOTO, entered);
            super.visitLabel(enterFailed);
            frame(entryLocals(false), THROWABLE);
            super.visitInsn(Opcodes.POP);
            super.visitInsn(Opcodes.ACONST_NULL);
            super.visitVarInsn(Opcodes.ASTORE, call);
            super.visitLabel(entered);
            frame(entryLocals(true), null);
            super.visitVarInsn(Opcodes.ALOAD, call);
            super.visitTypeInsn(Opcodes.INSTANCEOF, REFUSAL);
            super.visitJumpInsn(Opcodes.IFEQ, body);
            storeNoOutcome();
            super.visitJumpInsn(Opcodes.GOTO, exit);
            super.visitLabel(body);
            frame(entryLocals(true), null);
            // the original code may have a frame at its first instruction: a second one at the same offset is illegal
            super.visitInsn(Opcodes.NOP);
        }

        @Override
        public void visitFrame(int type, int numLocal, Object[] local, int numStack, Object[] stack) {
            // expanded frames (EXPAND_FRAMES): append the call, which lives through the whole body
            List<Object> locals = new ArrayList<>(base + 1);
            int slots = 0;
            for (int i = 0; i < numLocal; i++) {
                locals.add(local[i]);
                slots += local[i] == Opcodes.LONG || local[i] == Opcodes.DOUBLE ? 2 : 1;
            }
            for (; slots < base; slots++) {
                locals.add(Opcodes.TOP);
            }
            locals.add(OBJECT);
            super.visitFrame(type, locals.size(), locals.toArray(), numStack, stack);
        }

        @Override
        public void visitInsn(int opcode) {
            if (opcode >= Opcodes.IRETURN && opcode <= Opcodes.RETURN) {
                if (result.getSort() != Type.VOID) {
                    super.visitVarInsn(result.getOpcode(Opcodes.ISTORE), returned);
                }
                super.visitInsn(Opcodes.ACONST_NULL);
                super.visitVarInsn(Opcodes.ASTORE, thrown);
                super.visitJumpInsn(Opcodes.GOTO, exit);
            } else {
                super.visitInsn(opcode);
            }
        }

        @Override
        public void visitMaxs(int maxStack, int maxLocals) {
            Label bodyEnd = new Label();
            Label bodyFailed = new Label();
            super.visitLabel(bodyEnd);
            // registered after the method's own handlers, so that theirs, nested inside, come first
            super.visitTryCatchBlock(body, bodyEnd, bodyFailed, THROWABLE);
            super.visitLabel(bodyFailed);
            frame(exitLocals(false), THROWABLE);
            super.visitVarInsn(Opcodes.ASTORE, thrown);
            storeDefault();
            super.visitLabel(exit);
            Object[] outcome = exitLocals(true);
            frame(outcome, null);
            Label exitStart = new Label();
            Label exitEnd = new Label();
            Label exitFailed = new Label();
            Label done = new Label();
            super.visitTryCatchBlock(exitStart, exitEnd, exitFailed, THROWABLE);
            super.visitLabel(exitStart);
            super.visitVarInsn(Opcodes.ALOAD, call);
            if (result.getSort() == Type.VOID) {
                super.visitInsn(Opcodes.ACONST_NULL);
            } else {
                super.visitVarInsn(result.getOpcode(Opcodes.ILOAD), returned);
                box(result);
            }
            super.visitVarInsn(Opcodes.ALOAD, thrown);
            invokeBridge("exit", "(Ljava/lang/Object;Ljava/lang/Object;Ljava/lang/Throwable;)Ljava/lang/Object;");
            if (result.getSort() == Type.VOID) {
                super.visitInsn(Opcodes.POP);
            } else {
                unbox(result);
                super.visitVarInsn(result.getOpcode(Opcodes.ISTORE), returned);
            }
            super.visitVarInsn(Opcodes.ALOAD, call);
            super.visitVarInsn(Opcodes.ALOAD, thrown);
            invokeBridge("thrown", "(Ljava/lang/Object;Ljava/lang/Throwable;)Ljava/lang/Throwable;");
            super.visitVarInsn(Opcodes.ASTORE, thrown);
            super.visitLabel(exitEnd);
            super.visitJumpInsn(Opcodes.GOTO, done);
            super.visitLabel(exitFailed);
            frame(outcome, THROWABLE);
            super.visitInsn(Opcodes.POP);
            super.visitLabel(done);
            frame(outcome, null);
            Label normal = new Label();
            super.visitVarInsn(Opcodes.ALOAD, thrown);
            super.visitJumpInsn(Opcodes.IFNULL, normal);
            super.visitVarInsn(Opcodes.ALOAD, thrown);
            super.visitInsn(Opcodes.ATHROW);
            super.visitLabel(normal);
            frame(outcome, null);
            if (result.getSort() == Type.VOID) {
                super.visitInsn(Opcodes.RETURN);
            } else {
                super.visitVarInsn(result.getOpcode(Opcodes.ILOAD), returned);
                super.visitInsn(result.getOpcode(Opcodes.IRETURN));
            }
            super.visitMaxs(Math.max(maxStack, WOVEN_MAX_STACK), returned + result.getSize());
        }

        /** The locals on entry ({@code this} and the parameters), and the call above the method's own locals. */
        private Object[] entryLocals(boolean withCall) {
            List<Object> locals = new ArrayList<>();
            locals.add(owner);
            int slots = 1;
            for (Type argument : arguments) {
                locals.add(frameType(argument));
                slots += argument.getSize();
            }
            if (withCall) {
                for (; slots < base; slots++) {
                    locals.add(Opcodes.TOP);
                }
                locals.add(OBJECT);
            }
            return locals.toArray();
        }

        /** After the body only the woven locals are read: the method's own are left untyped. */
        private Object[] exitLocals(boolean withOutcome) {
            List<Object> locals = new ArrayList<>();
            for (int slot = 0; slot < base; slot++) {
                locals.add(Opcodes.TOP);
            }
            locals.add(OBJECT);
            if (withOutcome) {
                locals.add(THROWABLE);
                if (result.getSort() != Type.VOID) {
                    locals.add(frameType(result));
                }
            }
            return locals.toArray();
        }

        private void frame(Object[] locals, String stackTop) {
            if (frames) {
                super.visitFrame(Opcodes.F_NEW, locals.length, locals, stackTop == null ? 0 : 1,
                        stackTop == null ? new Object[0] : new Object[] {stackTop});
            }
        }

        private static Object frameType(Type type) {
            return switch (type.getSort()) {
                case Type.BOOLEAN, Type.CHAR, Type.BYTE, Type.SHORT, Type.INT -> Opcodes.INTEGER;
                case Type.FLOAT -> Opcodes.FLOAT;
                case Type.LONG -> Opcodes.LONG;
                case Type.DOUBLE -> Opcodes.DOUBLE;
                default -> type.getInternalName();
            };
        }

        /** A refused call: nothing thrown, the return type's default value returned (the exit replaces both). */
        private void storeNoOutcome() {
            super.visitInsn(Opcodes.ACONST_NULL);
            super.visitVarInsn(Opcodes.ASTORE, thrown);
            storeDefault();
        }

        private void storeDefault() {
            switch (result.getSort()) {
                case Type.VOID -> {
                    return;
                }
                case Type.LONG -> super.visitInsn(Opcodes.LCONST_0);
                case Type.FLOAT -> super.visitInsn(Opcodes.FCONST_0);
                case Type.DOUBLE -> super.visitInsn(Opcodes.DCONST_0);
                case Type.OBJECT, Type.ARRAY -> super.visitInsn(Opcodes.ACONST_NULL);
                default -> super.visitInsn(Opcodes.ICONST_0);
            }
            super.visitVarInsn(result.getOpcode(Opcodes.ISTORE), returned);
        }

        private int slotOf(int argument) {
            int slot = 1;
            for (int i = 0; i < argument; i++) {
                slot += arguments[i].getSize();
            }
            return slot;
        }

        private void loadBoxed(int argument) {
            super.visitVarInsn(arguments[argument].getOpcode(Opcodes.ILOAD), slotOf(argument));
            box(arguments[argument]);
        }

        /** Takes the value on the stack into the argument's slot, cast or unboxed to the parameter's type. */
        private void storeUnboxed(int argument) {
            unbox(arguments[argument]);
            super.visitVarInsn(arguments[argument].getOpcode(Opcodes.ISTORE), slotOf(argument));
        }

        private void replaceRequest() {
            super.visitVarInsn(Opcodes.ALOAD, call);
            loadBoxed(0);
            invokeBridge("request", "(Ljava/lang/Object;Ljava/lang/Object;)Ljava/lang/Object;");
            storeUnboxed(0);
        }

        /** A new array of every argument, boxed. */
        private void loadArgumentArray() {
            pushInt(arguments.length);
            super.visitTypeInsn(Opcodes.ANEWARRAY, OBJECT);
            for (int i = 0; i < arguments.length; i++) {
                super.visitInsn(Opcodes.DUP);
                pushInt(i);
                loadBoxed(i);
                super.visitInsn(Opcodes.AASTORE);
            }
        }

        /** Every argument taken back from the array the governed call returns. */
        private void replaceArguments() {
            super.visitVarInsn(Opcodes.ALOAD, call);
            loadArgumentArray();
            invokeBridge("request", "(Ljava/lang/Object;Ljava/lang/Object;)Ljava/lang/Object;");
            super.visitTypeInsn(Opcodes.CHECKCAST, "[Ljava/lang/Object;");
            for (int i = 0; i < arguments.length; i++) {
                super.visitInsn(Opcodes.DUP);
                pushInt(i);
                super.visitInsn(Opcodes.AALOAD);
                storeUnboxed(i);
            }
            super.visitInsn(Opcodes.POP);
        }

        private void pushInt(int value) {
            if (value <= 5) {
                super.visitInsn(Opcodes.ICONST_0 + value);
            } else {
                super.visitIntInsn(Opcodes.BIPUSH, value);
            }
        }

        private void invokeBridge(String method, String descriptor) {
            super.visitMethodInsn(Opcodes.INVOKESTATIC, bridge, method, descriptor, false);
        }

        private void box(Type type) {
            String wrapper = wrapper(type);
            if (wrapper != null) {
                super.visitMethodInsn(Opcodes.INVOKESTATIC, wrapper, "valueOf",
                        "(" + type.getDescriptor() + ")L" + wrapper + ";", false);
            }
        }

        private void unbox(Type type) {
            String wrapper = wrapper(type);
            if (wrapper != null) {
                super.visitTypeInsn(Opcodes.CHECKCAST, wrapper);
                super.visitMethodInsn(Opcodes.INVOKEVIRTUAL, wrapper, type.getClassName() + "Value",
                        "()" + type.getDescriptor(), false);
            } else if (!type.getInternalName().equals(OBJECT)) {
                super.visitTypeInsn(Opcodes.CHECKCAST, type.getInternalName());
            }
        }

        private static String wrapper(Type type) {
            return switch (type.getSort()) {
                case Type.BOOLEAN -> "java/lang/Boolean";
                case Type.CHAR -> "java/lang/Character";
                case Type.BYTE -> "java/lang/Byte";
                case Type.SHORT -> "java/lang/Short";
                case Type.INT -> "java/lang/Integer";
                case Type.FLOAT -> "java/lang/Float";
                case Type.LONG -> "java/lang/Long";
                case Type.DOUBLE -> "java/lang/Double";
                default -> null;
            };
        }
    }
}
