using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace Res2Net.Runtime.Checkpoints;

/// <summary>Resolves a persistent id (BINPERSID/PERSID) to a value; torch uses it to point at tensor storages.</summary>
internal delegate object? PersistentLoader(object? persistentId);

/// <summary>
/// A pickle virtual machine that only builds data. It interprets the opcodes of protocols 0-5 over an in-memory
/// buffer, resolves globals through <see cref="PickleGlobals"/> (an allow-list, nothing is imported) and bounds
/// everything hostile input could inflate: every length is checked against the bytes that remain before anything
/// is allocated, and the stack, mark depth, memo and container nesting are capped.
/// </summary>
internal sealed class Unpickler
{
    /// <summary>torch.save nests marks a handful deep; 1000 leaves room for any honest data.</summary>
    public const int MaxMarkDepth = 1000;

    /// <summary>Python batches SETITEMS by 1000, so honest stacks stay in the thousands.</summary>
    public const int MaxStackSize = 1 << 20;

    /// <summary>A checkpoint memoises a few entries per tensor.</summary>
    public const int MaxMemoSize = 1 << 22;

    /// <summary>Python refuses int literals longer than this by default (sys.int_info.default_max_str_digits).</summary>
    private const int MaxIntDigits = 4300;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly byte[] _data;
    private readonly int _end;
    private readonly string _file;
    private readonly string _source;
    private readonly PersistentLoader? _persistentLoad;
    private readonly bool _moreBeyondEnd;
    private readonly List<object?> _stack = new();
    private readonly List<int> _marks = new();
    private readonly Dictionary<long, object?> _memo = new();
    private int _pos;

    /// <param name="data">Buffer holding the pickle (and possibly more after it).</param>
    /// <param name="start">Where the pickle starts.</param>
    /// <param name="end">Exclusive end of the readable region.</param>
    /// <param name="file">File name for messages.</param>
    /// <param name="source">Which pickle inside the file, for messages (e.g. <c>archive/data.pkl</c>).</param>
    /// <param name="persistentLoad">Resolver for persistent ids; null when none are expected.</param>
    /// <param name="moreBeyondEnd">
    /// The buffer holds only the start of the file: running out of bytes then raises <see cref="PickleNeedsMoreData"/>
    /// (so the caller can read more and start again) instead of reporting a truncated pickle.
    /// </param>
    public Unpickler(byte[] data, int start, int end, string file, string source, PersistentLoader? persistentLoad, bool moreBeyondEnd = false)
    {
        _moreBeyondEnd = moreBeyondEnd;
        if (start < 0 || end > data.Length || start > end) throw new ArgumentOutOfRangeException(nameof(start));
        _data = data;
        _pos = start;
        _end = end;
        _file = file;
        _source = source;
        _persistentLoad = persistentLoad;
    }

    /// <summary>Offset just past the STOP opcode once <see cref="Load"/> returned; legacy files chain several pickles.</summary>
    public int Position => _pos;

    /// <summary>Runs the pickle to its STOP opcode and returns the value it produced.</summary>
    public object? Load()
    {
        while (true)
        {
            int opPos = _pos;
            if (_pos >= _end)
            {
                if (_moreBeyondEnd) throw new PickleNeedsMoreData();
                throw new CheckpointException(_file, $"{_source} byte {opPos}: pickle is truncated (ended without a STOP opcode)");
            }
            byte op = _data[_pos++];
            try
            {
                if (op == (byte)PickleOpcode.STOP)
                    return Pop();
                Execute((PickleOpcode)op);
            }
            catch (PickleError e)
            {
                string name = Enum.IsDefined((PickleOpcode)op) ? ((PickleOpcode)op).ToString() : $"0x{op:x2}";
                throw new CheckpointException(_file, $"{_source} byte {opPos} ({name}): {e.Message}");
            }
        }
    }

    private void Execute(PickleOpcode op)
    {
        switch (op)
        {
            case PickleOpcode.PROTO:
                byte protocol = ReadByte();
                if (protocol > 5) throw new PickleError($"pickle protocol {protocol} not supported (0-5 are)");
                break;
            case PickleOpcode.FRAME:
                // Frames only help buffered readers; the whole pickle is already in memory, so just sanity-check the size.
                ulong frame = BinaryPrimitives.ReadUInt64LittleEndian(Read(8));
                if (frame > (ulong)(_end - _pos)) throw Truncated("frame", (long)Math.Min(frame, long.MaxValue));
                break;
            case PickleOpcode.MARK:
                if (_marks.Count >= MaxMarkDepth) throw new PickleError($"marks nested deeper than {MaxMarkDepth}");
                _marks.Add(_stack.Count);
                break;
            case PickleOpcode.POP:
                if (_stack.Count > FrameBase) _stack.RemoveAt(_stack.Count - 1);
                else PopMark();
                break;
            case PickleOpcode.POP_MARK:
                PopMark();
                break;
            case PickleOpcode.DUP:
                Push(Peek());
                break;

            case PickleOpcode.NONE: Push(null); break;
            case PickleOpcode.NEWTRUE: Push(true); break;
            case PickleOpcode.NEWFALSE: Push(false); break;
            case PickleOpcode.BININT: Push((long)BinaryPrimitives.ReadInt32LittleEndian(Read(4))); break;
            case PickleOpcode.BININT1: Push((long)ReadByte()); break;
            case PickleOpcode.BININT2: Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Read(2))); break;
            case PickleOpcode.LONG1: Push(DecodeLong(Read(ReadByte()))); break;
            case PickleOpcode.LONG4: Push(DecodeLong(Read(ReadLength32("LONG4")))); break;
            case PickleOpcode.INT: Push(ParseIntLine()); break;
            case PickleOpcode.LONG: Push(ParseLongLine()); break;
            case PickleOpcode.BINFLOAT: Push(BinaryPrimitives.ReadDoubleBigEndian(Read(8))); break;
            case PickleOpcode.FLOAT: Push(ParseFloatLine()); break;

            case PickleOpcode.SHORT_BINUNICODE: Push(DecodeUtf8(Read(ReadByte()))); break;
            case PickleOpcode.BINUNICODE: Push(DecodeUtf8(Read(BinaryPrimitives.ReadUInt32LittleEndian(Read(4))))); break;
            case PickleOpcode.BINUNICODE8: Push(DecodeUtf8(Read(ReadLength64("BINUNICODE8")))); break;
            case PickleOpcode.UNICODE: Push(DecodeRawUnicodeEscape(ReadLine())); break;
            case PickleOpcode.SHORT_BINSTRING: Push(DecodePy2String(Read(ReadByte()))); break;
            case PickleOpcode.BINSTRING: Push(DecodePy2String(Read(ReadLength32("BINSTRING")))); break;
            case PickleOpcode.STRING: Push(DecodePy2String(DecodeStringLiteral(ReadLine()))); break;
            case PickleOpcode.SHORT_BINBYTES: Push(Read(ReadByte()).ToArray()); break;
            case PickleOpcode.BINBYTES: Push(Read(BinaryPrimitives.ReadUInt32LittleEndian(Read(4))).ToArray()); break;
            case PickleOpcode.BINBYTES8: Push(Read(ReadLength64("BINBYTES8")).ToArray()); break;
            case PickleOpcode.BYTEARRAY8: Push(Read(ReadLength64("BYTEARRAY8")).ToArray()); break;

            case PickleOpcode.EMPTY_TUPLE: Push(PyTuple.Empty); break;
            case PickleOpcode.TUPLE: Push(new PyTuple(PopMark())); break;
            case PickleOpcode.TUPLE1: Push(new PyTuple(PopN(1))); break;
            case PickleOpcode.TUPLE2: Push(new PyTuple(PopN(2))); break;
            case PickleOpcode.TUPLE3: Push(new PyTuple(PopN(3))); break;
            case PickleOpcode.EMPTY_LIST: Push(new PyList()); break;
            case PickleOpcode.LIST:
            {
                var list = new PyList();
                list.Items.AddRange(PopMark());
                Push(list);
                break;
            }
            case PickleOpcode.EMPTY_DICT: Push(new PyDict("dict")); break;
            case PickleOpcode.DICT:
            {
                var dict = new PyDict("dict");
                SetItems(dict, PopMark());
                Push(dict);
                break;
            }
            case PickleOpcode.EMPTY_SET: Push(new PySet(frozen: false)); break;
            case PickleOpcode.FROZENSET:
            {
                var set = new PySet(frozen: true);
                foreach (var item in PopMark()) set.Add(item);
                Push(set);
                break;
            }

            case PickleOpcode.APPEND:
            {
                object? value = Pop();
                Append(Peek(), [value]);
                break;
            }
            case PickleOpcode.APPENDS:
            {
                var items = PopMark();
                Append(Peek(), items);
                break;
            }
            case PickleOpcode.SETITEM:
            {
                object? value = Pop();
                object? key = Pop();
                SetItems(Peek(), [key, value]);
                break;
            }
            case PickleOpcode.SETITEMS:
            {
                var items = PopMark();
                SetItems(Peek(), items);
                break;
            }
            case PickleOpcode.ADDITEMS:
            {
                var items = PopMark();
                if (Peek() is not PySet { Frozen: false } set)
                    throw new PickleError($"ADDITEMS needs a set, found {PyValues.TypeName(Peek())}");
                foreach (var item in items) set.Add(item);
                break;
            }

            case PickleOpcode.BINPUT: MemoPut(ReadByte()); break;
            case PickleOpcode.LONG_BINPUT: MemoPut(BinaryPrimitives.ReadUInt32LittleEndian(Read(4))); break;
            case PickleOpcode.PUT: MemoPut(ParseMemoIndex()); break;
            case PickleOpcode.MEMOIZE: MemoPut(_memo.Count); break;
            case PickleOpcode.BINGET: MemoGet(ReadByte()); break;
            case PickleOpcode.LONG_BINGET: MemoGet(BinaryPrimitives.ReadUInt32LittleEndian(Read(4))); break;
            case PickleOpcode.GET: MemoGet(ParseMemoIndex()); break;

            case PickleOpcode.GLOBAL:
            {
                string module = DecodeName(ReadLine(), "module");
                string name = DecodeName(ReadLine(), "name");
                Push(PickleGlobals.Resolve(module, name));
                break;
            }
            case PickleOpcode.STACK_GLOBAL:
            {
                object? name = Pop();
                object? module = Pop();
                if (module is not string m || name is not string n)
                    throw new PickleError($"STACK_GLOBAL needs two strings, got {PyValues.TypeName(module)} and {PyValues.TypeName(name)}");
                Push(PickleGlobals.Resolve(m, n));
                break;
            }
            case PickleOpcode.REDUCE:
            {
                object? args = Pop();
                object? callable = Pop();
                Push(Call(callable, args));
                break;
            }
            case PickleOpcode.INST:
            {
                string module = DecodeName(ReadLine(), "module");
                string name = DecodeName(ReadLine(), "name");
                var cls = PickleGlobals.Resolve(module, name);
                Push(PickleGlobals.Call(cls, new PyTuple(PopMark())));
                break;
            }
            case PickleOpcode.OBJ:
            {
                var items = PopMark();
                if (items.Length == 0) throw new PickleError("OBJ without a class");
                Push(Call(items[0], new PyTuple(items[1..])));
                break;
            }
            case PickleOpcode.NEWOBJ:
            {
                object? args = Pop();
                object? cls = Pop();
                Push(PickleGlobals.NewObject(cls, ExpectTuple(args, "NEWOBJ arguments")));
                break;
            }
            case PickleOpcode.NEWOBJ_EX:
            {
                object? kwargs = Pop();
                object? args = Pop();
                object? cls = Pop();
                if (kwargs is not PyDict) throw new PickleError($"NEWOBJ_EX keyword arguments must be a dict, got {PyValues.TypeName(kwargs)}");
                Push(PickleGlobals.NewObject(cls, ExpectTuple(args, "NEWOBJ_EX arguments")));
                break;
            }
            case PickleOpcode.BUILD:
            {
                object? state = Pop();
                Build(Peek(), state);
                break;
            }
            case PickleOpcode.BINPERSID:
                Push(PersistentLoad(Pop()));
                break;
            case PickleOpcode.PERSID:
                Push(PersistentLoad(DecodeName(ReadLine(), "persistent id")));
                break;

            case PickleOpcode.EXT1:
            case PickleOpcode.EXT2:
            case PickleOpcode.EXT4:
                throw new PickleError("extension-registry references (EXT1/2/4) are not supported");
            case PickleOpcode.NEXT_BUFFER:
            case PickleOpcode.READONLY_BUFFER:
                throw new PickleError("out-of-band buffers (protocol 5) are not supported");
            default:
                throw new PickleError($"unknown pickle opcode 0x{(byte)op:x2}");
        }
    }

    // --- stack -------------------------------------------------------------------------------------------------

    /// <summary>Index where the innermost MARK frame starts; items below it belong to outer frames.</summary>
    private int FrameBase => _marks.Count > 0 ? _marks[^1] : 0;

    private void Push(object? value)
    {
        if (_stack.Count >= MaxStackSize) throw new PickleError($"stack grew beyond {MaxStackSize} items");
        _stack.Add(value);
    }

    private object? Pop()
    {
        if (_stack.Count <= FrameBase) throw new PickleError("stack underflow");
        object? value = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    private object? Peek()
    {
        if (_stack.Count <= FrameBase) throw new PickleError("stack underflow");
        return _stack[^1];
    }

    private object?[] PopN(int count)
    {
        if (_stack.Count - FrameBase < count) throw new PickleError("stack underflow");
        var items = _stack.GetRange(_stack.Count - count, count).ToArray();
        _stack.RemoveRange(_stack.Count - count, count);
        return items;
    }

    private object?[] PopMark()
    {
        if (_marks.Count == 0) throw new PickleError("no MARK to pop to");
        int start = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        var items = _stack.GetRange(start, _stack.Count - start).ToArray();
        _stack.RemoveRange(start, _stack.Count - start);
        return items;
    }

    // --- memo --------------------------------------------------------------------------------------------------

    private void MemoPut(long index)
    {
        if (index < 0) throw new PickleError($"negative memo index {index}");
        if (!_memo.ContainsKey(index) && _memo.Count >= MaxMemoSize)
            throw new PickleError($"memo grew beyond {MaxMemoSize} entries");
        _memo[index] = Peek();
    }

    private void MemoGet(long index)
    {
        if (!_memo.TryGetValue(index, out var value))
            throw new PickleError($"memo entry {index} was never stored");
        Push(value);
    }

    private long ParseMemoIndex()
    {
        var line = ReadLine();
        if (!long.TryParse(Encoding.ASCII.GetString(line), NumberStyles.None, CultureInfo.InvariantCulture, out long index))
            throw new PickleError("memo index is not a number");
        return index;
    }

    // --- object operations -------------------------------------------------------------------------------------

    private static object? Call(object? callable, object? args)
    {
        if (callable is not PyGlobal global)
            throw new PickleError($"REDUCE on a {PyValues.TypeName(callable)}, which is not callable");
        return PickleGlobals.Call(global, ExpectTuple(args, "REDUCE arguments"));
    }

    private static PyTuple ExpectTuple(object? value, string what) =>
        value as PyTuple ?? throw new PickleError($"{what} must be a tuple, got {PyValues.TypeName(value)}");

    private static void Append(object? target, object?[] items)
    {
        switch (target)
        {
            case PyList list:
                list.Items.AddRange(items);
                break;
            case PyObject obj:
                (obj.ListItems ??= new PyList()).Items.AddRange(items);
                break;
            default:
                throw new PickleError($"cannot append to a {PyValues.TypeName(target)}");
        }
    }

    private static void SetItems(object? target, object?[] items)
    {
        if (items.Length % 2 != 0) throw new PickleError($"odd number of items ({items.Length}) for key/value pairs");
        var dict = target switch
        {
            PyDict d => d,
            PyObject obj => obj.DictItems ??= new PyDict(obj.Type.QualifiedName),
            _ => throw new PickleError($"cannot set items on a {PyValues.TypeName(target)}"),
        };
        for (int i = 0; i < items.Length; i += 2) dict.Set(items[i], items[i + 1]);
    }

    private static void Build(object? target, object? state)
    {
        switch (target)
        {
            case PyDict dict:
                // OrderedDict state is its __dict__, e.g. {'_metadata': ...} from Module.state_dict().
                dict.Attributes = state;
                break;
            case PyObject obj:
                obj.State = state;
                break;
            case TensorRef:
                // Python attributes on a tensor (torch < 2 style __setstate__) carry no values; keep the tensor as is.
                break;
            default:
                throw new PickleError($"cannot BUILD (set state of) a {PyValues.TypeName(target)}");
        }
    }

    private object? PersistentLoad(object? pid)
    {
        if (_persistentLoad is null) throw new PickleError("persistent ids are not expected in this pickle");
        return _persistentLoad(pid);
    }

    // --- raw reads ---------------------------------------------------------------------------------------------

    private byte ReadByte()
    {
        if (_pos >= _end) throw Truncated("argument", 1);
        return _data[_pos++];
    }

    private ReadOnlySpan<byte> Read(long count)
    {
        if (count < 0 || count > _end - _pos) throw Truncated("argument", count);
        var span = new ReadOnlySpan<byte>(_data, _pos, (int)count);
        _pos += (int)count;
        return span;
    }

    private long ReadLength32(string what)
    {
        int length = BinaryPrimitives.ReadInt32LittleEndian(Read(4));
        if (length < 0) throw new PickleError($"{what} has negative length {length}");
        return length;
    }

    private long ReadLength64(string what)
    {
        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(Read(8));
        if (length > (ulong)(_end - _pos)) throw Truncated(what, (long)Math.Min(length, long.MaxValue));
        return (long)length;
    }

    private ReadOnlySpan<byte> ReadLine()
    {
        var rest = new ReadOnlySpan<byte>(_data, _pos, _end - _pos);
        int newline = rest.IndexOf((byte)'\n');
        if (newline < 0)
        {
            if (_moreBeyondEnd) throw new PickleNeedsMoreData();
            throw new PickleError("pickle is truncated: text argument has no terminating newline");
        }
        _pos += newline + 1;
        return rest[..newline];
    }

    private Exception Truncated(string what, long claimed) => _moreBeyondEnd
        ? new PickleNeedsMoreData()
        : new PickleError($"pickle is truncated or corrupt: {what} claims {claimed} bytes but only {_end - _pos} remain");

    // --- decoding ----------------------------------------------------------------------------------------------

    private static object DecodeLong(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0) return 0L;
        if (bytes.Length <= 8)
        {
            Span<byte> buffer = stackalloc byte[8];
            bytes.CopyTo(buffer);
            if ((bytes[^1] & 0x80) != 0) buffer[bytes.Length..].Fill(0xFF);
            return BinaryPrimitives.ReadInt64LittleEndian(buffer);
        }
        return Normalize(new BigInteger(bytes, isUnsigned: false, isBigEndian: false));
    }

    private static object Normalize(BigInteger value) =>
        value >= long.MinValue && value <= long.MaxValue ? (long)value : value;

    private object ParseIntLine()
    {
        var line = ReadLine();
        // Protocol 0 writes True and False as I01 and I00.
        if (line.SequenceEqual("00"u8)) return false;
        if (line.SequenceEqual("01"u8)) return true;
        return ParseInteger(line);
    }

    private object ParseLongLine()
    {
        var line = ReadLine();
        if (line.Length > 0 && line[^1] == (byte)'L') line = line[..^1];
        return ParseInteger(line);
    }

    private static object ParseInteger(ReadOnlySpan<byte> text)
    {
        if (text.Length > MaxIntDigits) throw new PickleError($"integer literal longer than {MaxIntDigits} digits");
        string s = Encoding.ASCII.GetString(text);
        if (long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value)) return value;
        if (BigInteger.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var big)) return Normalize(big);
        throw new PickleError("malformed integer literal");
    }

    private double ParseFloatLine()
    {
        string s = Encoding.ASCII.GetString(ReadLine());
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)) return value;
        return s switch
        {
            "nan" => double.NaN,
            "inf" => double.PositiveInfinity,
            "-inf" => double.NegativeInfinity,
            _ => throw new PickleError("malformed float literal"),
        };
    }

    private static string DecodeUtf8(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new PickleError("string is not valid UTF-8");
        }
    }

    private static string DecodeName(ReadOnlySpan<byte> bytes, string what)
    {
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new PickleError($"{what} is not valid UTF-8");
        }
    }

    // Python 2 str: torch.load decodes it as UTF-8; bytes that are not text stay bytes.
    private static object DecodePy2String(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return bytes.ToArray();
        }
    }

    /// <summary>Protocol 0 STRING: a quoted Python 2 literal with backslash escapes.</summary>
    private static byte[] DecodeStringLiteral(ReadOnlySpan<byte> line)
    {
        if (line.Length < 2 || line[0] != line[^1] || (line[0] != (byte)'\'' && line[0] != (byte)'"'))
            throw new PickleError("STRING argument is not a quoted literal");
        var body = line[1..^1];
        var result = new List<byte>(body.Length);
        for (int i = 0; i < body.Length; i++)
        {
            byte b = body[i];
            if (b != (byte)'\\') { result.Add(b); continue; }
            if (++i >= body.Length) throw new PickleError("STRING literal ends in a backslash");
            byte e = body[i];
            switch ((char)e)
            {
                case 'n': result.Add((byte)'\n'); break;
                case 'r': result.Add((byte)'\r'); break;
                case 't': result.Add((byte)'\t'); break;
                case 'a': result.Add(7); break;
                case 'b': result.Add(8); break;
                case 'f': result.Add(12); break;
                case 'v': result.Add(11); break;
                case '\\': case '\'': case '"': result.Add(e); break;
                case 'x':
                    if (i + 2 >= body.Length) throw new PickleError("bad \\x escape");
                    result.Add(ParseHexByte(body.Slice(i + 1, 2)));
                    i += 2;
                    break;
                case >= '0' and <= '7':
                {
                    int value = 0, digits = 0;
                    while (digits < 3 && i < body.Length && body[i] is >= (byte)'0' and <= (byte)'7')
                    {
                        value = value * 8 + (body[i] - '0');
                        i++;
                        digits++;
                    }
                    i--;
                    result.Add((byte)value);
                    break;
                }
                default:
                    result.Add((byte)'\\');
                    result.Add(e);
                    break;
            }
        }
        return result.ToArray();
    }

    private static byte ParseHexByte(ReadOnlySpan<byte> hex)
    {
        if (!byte.TryParse(Encoding.ASCII.GetString(hex), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out byte value))
            throw new PickleError("bad \\x escape");
        return value;
    }

    /// <summary>Protocol 0 UNICODE: latin-1 bytes where \uXXXX and \UXXXXXXXX stand for other code points.</summary>
    private static string DecodeRawUnicodeEscape(ReadOnlySpan<byte> line)
    {
        var sb = new StringBuilder(line.Length);
        for (int i = 0; i < line.Length; i++)
        {
            if (line[i] == (byte)'\\' && i + 1 < line.Length && (line[i + 1] == (byte)'u' || line[i + 1] == (byte)'U'))
            {
                int digits = line[i + 1] == (byte)'u' ? 4 : 8;
                if (i + 2 + digits > line.Length) throw new PickleError("truncated \\u escape in UNICODE");
                if (!int.TryParse(Encoding.ASCII.GetString(line.Slice(i + 2, digits)), NumberStyles.HexNumber,
                        CultureInfo.InvariantCulture, out int codePoint) || codePoint < 0 || codePoint > 0x10FFFF)
                    throw new PickleError("bad \\u escape in UNICODE");
                if (codePoint is >= 0xD800 and <= 0xDFFF) sb.Append((char)codePoint);
                else sb.Append(char.ConvertFromUtf32(codePoint));
                i += 1 + digits;
            }
            else sb.Append((char)line[i]);
        }
        return sb.ToString();
    }
}
