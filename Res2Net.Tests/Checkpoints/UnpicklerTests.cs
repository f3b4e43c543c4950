using System.Numerics;
using Res2Net.Runtime.Checkpoints;
using Xunit;

namespace Res2Net.Tests.Checkpoints;

/// <summary>The opcode set, on pickles CPython wrote (protocols 0-5) and on hand-made ones for the rarer opcodes.</summary>
public class UnpicklerTests
{
    // pickle.dumps(obj, protocol=p) by CPython 3.11 for
    // obj = {'a': [1, -2, 2.5, 'xé\n', None, True, False, (1,), (), 10**30, -(2**63)], 'b': b'\x00\xff', 's': {1, 2},
    //        'fs': frozenset([3]), 'od': OrderedDict([('k', 1)])}; obj['again'] = obj['a']
    public static TheoryData<int, string> CPythonPickles => new()
    {
        { 0, "286470300a56610a70310a286c70320a49310a61492d320a6146322e350a615678e95c75303030610a70330a614e614930310a614930300a612849310a7470340a612874614c313030303030303030303030303030303030303030303030303030303030304c0a614c2d393232333337323033363835343737353830384c0a617356620a70350a635f636f646563730a656e636f64650a70360a28565c7530303030ff0a70370a566c6174696e310a70380a7470390a527031300a7356730a7031310a635f5f6275696c74696e5f5f0a7365740a7031320a28286c7031330a49310a6149320a61747031340a527031350a735666730a7031360a635f5f6275696c74696e5f5f0a66726f7a656e7365740a7031370a28286c7031380a49330a61747031390a527032300a73566f640a7032310a63636f6c6c656374696f6e730a4f726465726564446963740a7032320a2874527032330a566b0a7032340a49310a737356616761696e0a7032350a67320a732e" },
        { 1, "7d71002858010000006171015d7102284b014afeffffff474004000000000000580400000078c3a90a71034e4930310a4930300a284b01747104294c313030303030303030303030303030303030303030303030303030303030304c0a4c2d393232333337323033363835343737353830384c0a655801000000627105635f636f646563730a656e636f64650a710628580300000000c3bf710758060000006c6174696e31710874710952710a580100000073710b635f5f6275696c74696e5f5f0a7365740a710c285d710d284b014b026574710e52710f580200000066737110635f5f6275696c74696e5f5f0a66726f7a656e7365740a7111285d71124b036174711352711458020000006f64711563636f6c6c656374696f6e730a4f726465726564446963740a71162952711758010000006b71184b01735805000000616761696e71196802752e" },
        { 2, "80027d71002858010000006171015d7102284b014afeffffff474004000000000000580400000078c3a90a71034e88894b01857104298a0d00000040eaed7446d09c2c9f0c8a080000000000000080655801000000627105635f636f646563730a656e636f64650a7106580300000000c3bf710758060000006c6174696e31710886710952710a580100000073710b635f5f6275696c74696e5f5f0a7365740a710c5d710d284b014b026585710e52710f580200000066737110635f5f6275696c74696e5f5f0a66726f7a656e7365740a71115d71124b036185711352711458020000006f64711563636f6c6c656374696f6e730a4f726465726564446963740a71162952711758010000006b71184b01735805000000616761696e71196802752e" },
        { 3, "80037d71002858010000006171015d7102284b014afeffffff474004000000000000580400000078c3a90a71034e88894b01857104298a0d00000040eaed7446d09c2c9f0c8a080000000000000080655801000000627105430200ff71065801000000737107636275696c74696e730a7365740a71085d7109284b014b026585710a52710b58020000006673710c636275696c74696e730a66726f7a656e7365740a710d5d710e4b036185710f52711058020000006f64711163636f6c6c656374696f6e730a4f726465726564446963740a71122952711358010000006b71144b01735805000000616761696e71156802752e" },
        { 4, "8004959b000000000000007d94288c0161945d94284b014afeffffff4740040000000000008c0478c3a90a944e88894b018594298a0d00000040eaed7446d09c2c9f0c8a080000000000000080658c016294430200ff948c0173948f94284b014b02908c02667394284b0391948c026f64948c0b636f6c6c656374696f6e73948c0b4f726465726564446963749493942952948c016b944b01738c05616761696e946802752e" },
        { 5, "8005959b000000000000007d94288c0161945d94284b014afeffffff4740040000000000008c0478c3a90a944e88894b018594298a0d00000040eaed7446d09c2c9f0c8a080000000000000080658c016294430200ff948c0173948f94284b014b02908c02667394284b0391948c026f64948c0b636f6c6c656374696f6e73948c0b4f726465726564446963749493942952948c016b944b01738c05616761696e946802752e" },
    };

    internal static object? Load(byte[] pickle, PersistentLoader? persistentLoad = null) =>
        new Unpickler(pickle, 0, pickle.Length, "test.pkl", "pickle", persistentLoad).Load();

    private static object? Get(PyDict dict, string key) => dict.TryGet(key, out var value) ? value : throw new KeyNotFoundException(key);

    [Theory]
    [MemberData(nameof(CPythonPickles))]
    public void CPythonPicklesOfEveryProtocolDecode(int protocol, string hex)
    {
        var top = Assert.IsType<PyDict>(Load(Convert.FromHexString(hex)));
        Assert.Equal(["a", "b", "s", "fs", "od", "again"], top.Entries.Select(e => (string)e.Key!));

        var a = Assert.IsType<PyList>(Get(top, "a")).Items;
        Assert.Equal(11, a.Count);
        Assert.Equal(1L, a[0]);
        Assert.Equal(-2L, a[1]);
        Assert.Equal(2.5, a[2]);
        Assert.Equal("xé\n", a[3]);
        Assert.Null(a[4]);
        Assert.Equal(true, a[5]);
        Assert.Equal(false, a[6]);
        Assert.Equal([1L], Assert.IsType<PyTuple>(a[7]).Items);
        Assert.Empty(Assert.IsType<PyTuple>(a[8]).Items);
        Assert.Equal(BigInteger.Pow(10, 30), a[9]);
        Assert.Equal(long.MinValue, a[10]);

        Assert.Equal(new byte[] { 0, 255 }, Get(top, "b"));
        var set = Assert.IsType<PySet>(Get(top, "s"));
        Assert.False(set.Frozen);
        Assert.Equal([1L, 2L], set.NonNullItems.Cast<long>().Order());
        var frozen = Assert.IsType<PySet>(Get(top, "fs"));
        Assert.True(frozen.Frozen);
        Assert.Equal([3L], frozen.NonNullItems.Cast<long>());
        var ordered = Assert.IsType<PyDict>(Get(top, "od"));
        Assert.Equal("collections.OrderedDict", ordered.TypeName);
        Assert.Equal(1L, Get(ordered, "k"));
        // The memo makes the second reference the same object, as in Python.
        Assert.Same(Get(top, "a"), Get(top, "again"));
        _ = protocol;
    }

    [Fact]
    public void StackOpcodesBehaveLikePython()
    {
        // [DUP'd list appended twice] then POP of a pushed None and POP_MARK of a marked junk frame.
        var pickle = new PickleBuilder().Proto().Op(']').Op('2').Op('a')
            .Op('N').Op('0')
            .Mark().Int(1).Int(2).Op('1')
            .Stop().ToArray();
        var list = Assert.IsType<PyList>(Load(pickle));
        Assert.Same(list, Assert.Single(list.Items));
    }

    [Fact]
    public void TextOpcodesOfProtocolZeroDecode()
    {
        var pickle = new PickleBuilder()
            .Mark().Mark()
            .Raw("S'a\\x41\\n\\'q'\n"u8.ToArray())
            .Raw("F-0.125\n"u8.ToArray())
            .Raw("L-12L\n"u8.ToArray())
            .Raw("Vsnow\\u2603 \\U0001F600\n"u8.ToArray())
            .Raw("p7\n"u8.ToArray()).Raw("g7\n"u8.ToArray())
            .Op('l')
            .Mark().Raw("S'k'\n"u8.ToArray()).Raw("I5\n"u8.ToArray()).Op('d')
            .Op('t')
            .Stop().ToArray();
        var tuple = Assert.IsType<PyTuple>(Load(pickle));
        var list = Assert.IsType<PyList>(tuple[0]).Items;
        Assert.Equal(["aA\n'q", -0.125, -12L, "snow\u2603 \U0001F600", "snow\u2603 \U0001F600"], list);
        Assert.Equal(5L, Get(Assert.IsType<PyDict>(tuple[1]), "k"));
    }

    [Fact]
    public void OpaqueClassesKeepTheirDataWithoutRunningAnything()
    {
        // argparse.Namespace(lr=0.1) as protocol 2 writes it: NEWOBJ then BUILD with the __dict__.
        var pickle = new PickleBuilder().Proto().Global("argparse", "Namespace").EmptyTuple().Raw(0x81)
            .Op('}').Str("lr").Raw((byte)'G', 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a).Op('s').Op('b')
            .Stop().ToArray();
        var obj = Assert.IsType<PyObject>(Load(pickle));
        Assert.Equal("argparse.Namespace", obj.Type.QualifiedName);
        Assert.Equal(0.1, Get(Assert.IsType<PyDict>(obj.State), "lr"));
    }

    [Fact]
    public void SmallBuiltinsAreRebuiltFromData()
    {
        var pickle = new PickleBuilder().Proto().Mark()
            .Global("collections", "defaultdict").Global("builtins", "list").Raw(0x85).Reduce()
            .Global("torch", "Size").Tuple(2, 3).Raw(0x85).Reduce()
            .Global("builtins", "bytearray").Str("\u00ff\u0001").Str("latin-1").Raw(0x86).Reduce()
            .Global("builtins", "bytes").Mark().Int(65).Int(66).Op('l').Raw(0x85).Reduce()
            .Raw(0x8f).Mark().Int(1).Int(1).Raw(0x90)
            .Op('t').Stop().ToArray();
        var items = Assert.IsType<PyTuple>(Load(pickle)).Items;
        Assert.Equal("collections.defaultdict", Assert.IsType<PyDict>(items[0]).TypeName);
        Assert.Equal([2L, 3L], Assert.IsType<PyTuple>(items[1]).Items);
        Assert.Equal(new byte[] { 0xff, 1 }, items[2]);
        Assert.Equal("AB"u8.ToArray(), items[3]);
        Assert.Equal(1, Assert.IsType<PySet>(items[4]).Count);
    }

    [Fact]
    public void DictKeysFollowPythonEquality()
    {
        // {1: 'a', True: 'b', 1.0: 'c', (1, 2): 'd', (1, 2): 'e'} has two keys in Python.
        var pickle = new PickleBuilder().Proto().Op('}').Mark()
            .Int(1).Str("a").Raw(0x88).Str("b").Raw((byte)'G', 0x3f, 0xf0, 0, 0, 0, 0, 0, 0).Str("c")
            .Tuple(1, 2).Str("d").Tuple(1, 2).Str("e")
            .Op('u').Stop().ToArray();
        var dict = Assert.IsType<PyDict>(Load(pickle));
        Assert.Equal(2, dict.Count);
        Assert.Equal(1L, dict.Entries[0].Key);
        Assert.Equal("c", dict.Entries[0].Value);
        Assert.Equal("e", dict.Entries[1].Value);
    }

    [Fact]
    public void TensorsWrappedByRebuildFromTypeAreUnwrapped()
    {
        // torch >= 2 writes tensors with Python attributes as _rebuild_from_type_v2(_rebuild_tensor_v2, Tensor, args, state).
        var storage = new StorageRef(TensorDType.Float32, "0", 4, "cpu");
        var pickle = new PickleBuilder().Proto()
            .Global("torch._tensor", "_rebuild_from_type_v2").Mark()
            .Global("torch._utils", "_rebuild_tensor_v2")
            .Global("torch", "Tensor")
            .Mark().Str("pid").Op('Q').Int(0).Tuple(2, 2).Tuple(2, 1).Raw(0x89).OrderedDict().Op('t')
            .Op('}')
            .Op('t').Reduce().Stop().ToArray();
        var tensor = Assert.IsType<TensorRef>(Load(pickle, _ => storage));
        Assert.Equal([2, 2], tensor.Shape);
        Assert.Equal(4, tensor.ElementCount);
    }

    [Fact]
    public void ErrorsCarryFileSourceOffsetAndOpcode()
    {
        var error = Assert.Throws<CheckpointException>(() => Load(new PickleBuilder().Proto().Op('N').Op('N').Op('t').ToArray()));
        Assert.Equal("test.pkl: pickle byte 4 (TUPLE): no MARK to pop to", error.Message);
    }
}
