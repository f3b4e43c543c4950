using System.Buffers.Binary;
using Res2Net.Runtime.Checkpoints;
using Xunit;

namespace Res2Net.Tests.Checkpoints;

/// <summary>
/// The unpickler never runs anything named in a file: globals off the allow-list are refused when first named,
/// and malformed or inflated pickles end in a <see cref="CheckpointException"/>, never a crash, hang or huge allocation.
/// </summary>
public class HostilePickleTests
{
    public static TheoryData<string, string> DangerousGlobals => new()
    {
        { "os", "system" },
        { "posix", "system" },
        { "nt", "system" },
        { "builtins", "eval" },
        { "builtins", "exec" },
        { "__builtin__", "eval" },
        { "builtins", "getattr" },
        { "builtins", "__import__" },
        { "subprocess", "Popen" },
        { "torch", "load" },
        { "torch.serialization", "load" },
        { "pickle", "loads" },
        { "collections", "OrderedDict.fromkeys" },
        { "torch._utils", "_rebuild_qtensor" },
    };

    [Theory]
    [MemberData(nameof(DangerousGlobals))]
    public void GlobalOffTheAllowListIsRefused(string module, string name)
    {
        var pickle = new PickleBuilder().Proto().Global(module, name).Str("touch /tmp/pwned").Raw(0x85).Reduce().Stop().ToArray();
        PickleAssertRefused(pickle, module, name);
    }

    [Theory]
    [MemberData(nameof(DangerousGlobals))]
    public void StackGlobalOffTheAllowListIsRefused(string module, string name)
    {
        var pickle = new PickleBuilder().Proto(4).StackGlobal(module, name).Str("id").Raw(0x85).Reduce().Stop().ToArray();
        PickleAssertRefused(pickle, module, name);
    }

    [Fact]
    public void InstOpcodeGoesThroughTheAllowListToo()
    {
        var pickle = new PickleBuilder().Mark().Str("id").Op('i').Raw("os\nsystem\n"u8.ToArray()).Stop().ToArray();
        PickleAssertRefused(pickle, "os", "system");
    }

    [Fact]
    public void RefusalHappensEvenWhenTheGlobalIsNeverCalled()
    {
        // Hidden inside meta of an otherwise valid checkpoint, and never reduced.
        var pickle = new PickleBuilder().Proto().Op('}').Mark()
            .Str("meta").Global("os", "system")
            .Str("state_dict").OrderedDict()
            .Op('u').Stop().ToArray();
        PickleAssertRefused(pickle, "os", "system");
    }

    private static void PickleAssertRefused(byte[] pickle, string module, string name)
    {
        var error = CheckpointAssert.PickleFails(pickle, $"global '{module}.{name}' is refused", "allow-list");
        Assert.Contains("ckpt/data.pkl byte ", error.Message);
    }

    [Fact]
    public void AllowedGlobalCannotBeCalledOutsideItsRole()
    {
        var pickle = new PickleBuilder().Proto().Global("torch", "FloatStorage").Int(10).Raw(0x85).Reduce().Stop().ToArray();
        CheckpointAssert.PickleFails(pickle, "'torch.FloatStorage' cannot be called");
    }

    [Fact]
    public void ReduceOnANonCallableIsRejected()
    {
        var pickle = new PickleBuilder().Proto().Str("os.system").EmptyTuple().Reduce().Stop().ToArray();
        CheckpointAssert.PickleFails(pickle, "REDUCE on a str, which is not callable");
    }

    [Fact]
    public void UnknownOpcodeIsNamedWithItsPosition()
    {
        var pickle = new PickleBuilder().Proto().Op('N').Raw(0xff).Stop().ToArray();
        CheckpointAssert.PickleFails(pickle, "byte 3", "unknown pickle opcode 0xff");
    }

    [Theory]
    [InlineData(new byte[] { 0x82, 1 }, "EXT1")]
    [InlineData(new byte[] { 0x97 }, "out-of-band")]
    [InlineData(new byte[] { 0x80, 6 }, "protocol 6 not supported")]
    [InlineData(new byte[] { (byte)'R' }, "stack underflow")]
    [InlineData(new byte[] { (byte)'1' }, "no MARK")]
    [InlineData(new byte[] { (byte)'h', 5 }, "memo entry 5 was never stored")]
    [InlineData(new byte[] { (byte)'.' }, "stack underflow")]
    [InlineData(new byte[] { (byte)'N', (byte)'N', (byte)'N', (byte)'s' }, "cannot set items on a None")]
    [InlineData(new byte[] { (byte)'}', (byte)']', (byte)'N', (byte)'s' }, "unhashable list")]
    [InlineData(new byte[] { (byte)'N', (byte)'}', (byte)'b' }, "cannot BUILD")]
    [InlineData(new byte[] { (byte)'c', (byte)'o', (byte)'s' }, "no terminating newline")]
    [InlineData(new byte[] { (byte)'I', (byte)'x', (byte)'\n' }, "malformed integer")]
    [InlineData(new byte[] { (byte)'N', (byte)'Q' }, "persistent id is a None")]
    public void MalformedPicklesAreRejected(byte[] body, string cause)
    {
        var pickle = new PickleBuilder().Proto().Raw(body).Stop().ToArray();
        CheckpointAssert.PickleFails(pickle, cause);
    }

    [Fact]
    public void PickleWithoutStopIsTruncated()
    {
        CheckpointAssert.PickleFails(new PickleBuilder().Proto().Op('N').ToArray(), "truncated", "without a STOP");
    }

    [Theory]
    [InlineData((byte)'X', 4, "BINUNICODE")]
    [InlineData((byte)'B', 4, "BINBYTES")]
    [InlineData((byte)0x8d, 8, "BINUNICODE8")]
    [InlineData((byte)0x8e, 8, "BINBYTES8")]
    [InlineData((byte)0x96, 8, "BYTEARRAY8")]
    [InlineData((byte)0x95, 8, "FRAME")]
    [InlineData((byte)0x8b, 4, "LONG4")]
    [InlineData((byte)'T', 4, "BINSTRING")]
    public void LengthClaimingGigabytesFailsWithoutAllocatingThem(byte opcode, int lengthSize, string name)
    {
        var length = new byte[lengthSize];
        if (lengthSize == 4) BinaryPrimitives.WriteInt32LittleEndian(length, int.MaxValue - 16);
        else BinaryPrimitives.WriteInt64LittleEndian(length, long.MaxValue - 16);
        var pickle = new PickleBuilder().Proto(5).Raw(opcode).Raw(length).Raw("abc"u8.ToArray()).Stop().ToArray();
        var error = CheckpointAssert.PickleFails(pickle, "truncated or corrupt", "remain");
        Assert.Contains(name, error.Message);
    }

    [Fact]
    public void MarkBombIsCapped()
    {
        var pickle = new PickleBuilder().Proto().Raw(Enumerable.Repeat((byte)'(', 100_000).ToArray()).Stop().ToArray();
        CheckpointAssert.PickleFails(pickle, $"marks nested deeper than {Unpickler.MaxMarkDepth}");
    }

    [Fact]
    public void MarkAndListBombIsCapped()
    {
        var body = Enumerable.Range(0, 100_000).SelectMany(_ => new[] { (byte)'(', (byte)']' }).ToArray();
        CheckpointAssert.PickleFails(new PickleBuilder().Proto().Raw(body).Stop().ToArray(), "marks nested deeper than");
    }

    [Fact]
    public void TupleNestingBombIsCapped()
    {
        // ((((...),),),) 100k deep: hashing or printing it recursively would overflow the stack.
        var pickle = new PickleBuilder().Proto().EmptyTuple().Raw(Enumerable.Repeat((byte)0x85, 100_000).ToArray()).Stop().ToArray();
        CheckpointAssert.PickleFails(pickle, "tuples nested deeper than");
    }

    [Fact]
    public void FrozensetNestingIsCapped()
    {
        var body = new List<byte>();
        for (int i = 0; i < 500; i++) body.Add((byte)'(');
        for (int i = 0; i < 500; i++) body.Add(0x91);
        CheckpointAssert.PickleFails(new PickleBuilder().Proto(4).Raw(body.ToArray()).Stop().ToArray(), "sets nested deeper than");
    }

    [Fact]
    public void DeeplyNestedListsAreHandledWithoutRecursion()
    {
        // Lists built by APPEND need no marks; a 100k-deep chain must not overflow anything downstream.
        var body = Enumerable.Repeat((byte)']', 100_000).Concat(Enumerable.Repeat((byte)'a', 99_999)).ToArray();
        CheckpointAssert.PickleFails(new PickleBuilder().Proto().Raw(body).Stop().ToArray(), "top-level object is of type list");
    }

    [Fact]
    public void SelfReferencingDictIsHandled()
    {
        // d = {}; d['state_dict'] = d
        var pickle = new PickleBuilder().Proto().Op('}').Raw((byte)'q', 0).Str("state_dict").Raw((byte)'h', 0).Op('s').Stop().ToArray();
        CheckpointAssert.PickleFails(pickle, "'state_dict' entry 'state_dict' is of type dict, not a tensor");
    }

    [Fact]
    public void StackGrowthIsCapped()
    {
        var pickle = new PickleBuilder().Proto().Raw(Enumerable.Repeat((byte)'N', Unpickler.MaxStackSize + 10).ToArray()).Stop().ToArray();
        CheckpointAssert.PickleFails(pickle, "stack grew beyond");
    }

    [Fact]
    public void TruncatedPickleAtEveryOffsetIsRejected()
    {
        byte[] pickle = CheckpointZip.Entry(File.ReadAllBytes(FixtureFiles.Path("tiny-plain.pth")), "/data.pkl");
        for (int cut = 0; cut < pickle.Length - 1; cut += cut < 256 ? 1 : 37)
        {
            var zip = CheckpointZip.Build(pickle[..cut]);
            var error = Assert.Throws<CheckpointException>(() => CheckpointReader.Read(new MemoryStream(zip), CheckpointAssert.FileName));
            Assert.StartsWith(CheckpointAssert.FileName + ": ", error.Message);
        }
    }

    [Fact]
    public void TruncatedFileAtManyOffsetsIsRejected()
    {
        byte[] file = PyTorchSamples.ZipProtocol2;
        for (int cut = 0; cut < file.Length; cut += 13)
            CheckpointAssert.Fails(file[..cut]);
        byte[] legacy = PyTorchSamples.LegacyProtocol2;
        for (int cut = 1; cut < legacy.Length; cut += 7)
            CheckpointAssert.Fails(legacy[..cut]);
    }

    [Fact]
    public void CorruptedPicklesNeverEscapeAsOtherExceptions()
    {
        // Random byte changes in a real pickle: each read either succeeds or raises CheckpointException.
        byte[] original = PyTorchSamples.ZipProtocol2;
        byte[] pickle = CheckpointZip.Entry(original, "/data.pkl");
        var random = new Random(1234);
        for (int trial = 0; trial < 400; trial++)
        {
            byte[] mutated = (byte[])pickle.Clone();
            for (int k = random.Next(1, 4); k > 0; k--) mutated[random.Next(mutated.Length)] = (byte)random.Next(256);
            byte[] zip = CheckpointZip.Rewrite(original, (name, bytes) => name.EndsWith("/data.pkl", StringComparison.Ordinal) ? mutated : bytes);
            try
            {
                CheckpointReader.Read(new MemoryStream(zip), CheckpointAssert.FileName);
            }
            catch (CheckpointException e)
            {
                Assert.StartsWith(CheckpointAssert.FileName + ": ", e.Message);
            }
        }
    }

    [Fact]
    public void HugeIntegerIsNotFormattedInMessages()
    {
        // A 4 MB LONG4 as the first object of a would-be legacy file: the message must not print its 10 million digits.
        var length = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, 4 << 20);
        var pickle = new PickleBuilder().Proto().Raw(0x8b).Raw(length).Raw(Enumerable.Repeat((byte)0x5a, 4 << 20).ToArray()).Stop().ToArray();
        CheckpointAssert.Fails(pickle, "first object is int of 33554431 bits");
    }

    [Fact]
    public void WholeModulePicklesAreExplained()
    {
        var pickle = new PickleBuilder().Proto().Mark().Str("module").Str("MyNet").Op('t').Op('Q').Stop().ToArray();
        CheckpointAssert.PickleFails(pickle, "whole nn.Module");
    }

    [Fact]
    public void TextPersistentIdIsNotAStorage()
    {
        var pickle = new PickleBuilder().Proto().Op('P').Raw("0\n"u8.ToArray()).Stop().ToArray();
        CheckpointAssert.PickleFails(pickle, "persistent id is a str");
    }
}
