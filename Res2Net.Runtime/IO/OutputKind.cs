using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.Export;
using Res2Net.Runtime.Networks;

namespace Res2Net.Runtime.IO;

/// <summary>
/// A kind of file res2net writes, and how to recognise one from its first bytes. An existing output of the same kind
/// (ours, or numpy's / torch's: they cannot be told apart, and replacing them is what the user asked for) is replaced
/// without <c>--force</c>; anything else is someone's data and is not (<see cref="OutputPath.Check(string, OutputKind, bool, InputFiles)"/>).
/// </summary>
/// <param name="Description">What the file is, for messages: "a .npy array".</param>
/// <param name="Recognizes">Given up to <see cref="OutputPath.HeadBytes"/> first bytes and the file's length, true for a file of this kind.</param>
public sealed record OutputKind(string Description, Func<byte[], long, bool> Recognizes)
{
    /// <summary>NumPy's .npy: its magic string.</summary>
    public static readonly OutputKind Npy = new("a .npy array", (head, _) => head.AsSpan().StartsWith(IO.Npy.Magic));

    /// <summary>PNG: its 8-byte signature.</summary>
    public static readonly OutputKind Png = new("a PNG image", (head, _) => head.AsSpan().StartsWith(PngSignature));

    /// <summary>safetensors: a header size that fits the file, then JSON.</summary>
    public static readonly OutputKind Safetensors = new("a safetensors file", (head, length) => SafetensorsReader.LooksLikeSafetensors(head, length));

    /// <summary>A network spec (<c>networks/*.json</c>): a JSON object that names <c>name</c> and <c>base_width</c> first.</summary>
    public static readonly OutputKind NetworkSpec = new("a network spec (JSON with \"name\" and \"base_width\")", NetworkSpecFile.LooksLikeSpec);

    /// <summary>An ONNX ModelProto as every writer serializes it: ir_version (field 1) first, then another ModelProto field.</summary>
    public static readonly OutputKind Onnx = new("an ONNX model", (head, _) => LooksLikeOnnx(head));

    private static ReadOnlySpan<byte> PngSignature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private static bool LooksLikeOnnx(ReadOnlySpan<byte> head)
    {
        // 0x08 is field 1 as a varint; IR versions so far are 1 to 11, one byte. The next tag is a string or message
        // field (producer_name 2, producer_version 3, domain 4, doc_string 6, graph 7, opset_import 8) or model_version 5.
        if (head.Length < 3 || head[0] != 0x08 || head[1] is 0 or >= 0x80) return false;
        int field = head[2] >> 3, wireType = head[2] & 7;
        return field is >= OnnxProto.Model.ProducerName and <= OnnxProto.Model.OpsetImport && wireType == (field == 5 ? 0 : 2);
    }
}
