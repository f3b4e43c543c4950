using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis.Text;
using Res2Net.Generator.Emitting;
using Res2Net.Generator.Model;
using Res2Net.Generator.Parsing;
using Res2Net.Generator.Planning;

namespace Res2Net.Generator
{
    public sealed partial class Res2NetGenerator
    {
        /// <summary>The fields a spec may hold, with what each expects; the order is the documented one.</summary>
        internal static readonly (string Name, string Expected)[] SpecFields =
        {
            ("$schema", "a path to res2net.schema.json (ignored)"),
            ("name", "the network's name, e.g. \"res2net50-w14-s8_3rdparty_8xb32_in1k\""),
            ("class_name", "the generated C# class name"),
            ("depth", "50, 101 or 152"),
            ("blocks", "Bottle2neck blocks per stage, 4 positive integers"),
            ("base_width", "channels per split in stage 1 at base_channels 64, e.g. 26"),
            ("scales", "number of splits per Bottle2neck, >= 2"),
            ("stem", "\"plain\" (7x7 conv) or \"deep\" (three 3x3 convs)"),
            ("avg_down", "true to downsample shortcuts with average pooling"),
            ("stem_channels", "output channels of the stem, default 64"),
            ("base_channels", "stage-1 bottleneck channels, default 64"),
            ("num_classes", "classifier outputs, e.g. 1000"),
            ("input_size", "[height, width] of the input image"),
            ("checkpoint", "{ \"url\": ..., \"sha256\": ... } of the pretrained weights"),
            ("preprocess", "{ \"resize_edge\": ..., \"mean\": [r, g, b], \"std\": [r, g, b] } of the test pipeline"),
            ("class_names", "one name per class, in label order"),
        };

        /// <summary>mmpretrain's ImageNet normalization (RGB, 0-255 scale), the default of every spec.</summary>
        private static readonly float[] ImageNetMean = { 123.675f, 116.28f, 103.53f };

        private static readonly float[] ImageNetStd = { 58.395f, 57.12f, 57.375f };

        private static readonly Dictionary<int, int[]> BlocksByDepth = new()
        {
            [50] = new[] { 3, 4, 6, 3 },
            [101] = new[] { 3, 4, 23, 3 },
            [152] = new[] { 3, 8, 36, 3 },
        };

        /// <summary>The network's total stride: stem conv, stem pool, and three stride-2 stages.</summary>
        internal const int TotalStride = 32;

        /// <summary>Reads one spec file; every problem found is reported, not only the first.</summary>
        internal static ParsedSpec ParseSpec(string path, SourceText text)
        {
            var parser = new SpecParser(path, text);
            var (spec, locations) = parser.Parse();
            return parser.Diagnostics.Count == 0
                ? new ParsedSpec(spec, locations, default)
                : new ParsedSpec(null, null, parser.Diagnostics.ToEquatableArray());
        }

        private sealed class SpecParser
        {
            private readonly string _path;
            private readonly SourceText _text;

            public SpecParser(string path, SourceText text)
            {
                _path = path;
                _text = text;
            }

            public List<DiagnosticInfo> Diagnostics { get; } = new();

            public (NetworkSpec? Spec, SpecLocations? Locations) Parse()
            {
                JsonNode root;
                try
                {
                    root = JsonReader.Parse(_text.ToString());
                }
                catch (JsonSyntaxException e)
                {
                    Report(DiagnosticDescriptors.MalformedJson, e.Position, 1, CSharpText.Quoted(Path.GetFileName(_path)), e.Message);
                    return (null, null);
                }

                if (root.Kind != JsonKind.Object)
                {
                    Report(DiagnosticDescriptors.WrongType, root, "(root)", "an object", root.KindName);
                    return (null, null);
                }

                var fields = new Dictionary<string, JsonProperty>(StringComparer.Ordinal);
                foreach (var property in root.Properties)
                {
                    if (!SpecFields.Any(f => f.Name == property.Name))
                    {
                        Report(DiagnosticDescriptors.UnknownField, property.NameStart, property.NameLength,
                            property.Name, string.Join(", ", SpecFields.Skip(1).Select(f => f.Name)));
                    }
                    else if (fields.ContainsKey(property.Name))
                    {
                        Report(DiagnosticDescriptors.DuplicateField, property.NameStart, property.NameLength, property.Name);
                    }
                    else
                    {
                        fields.Add(property.Name, property);
                    }
                }

                string? name = ReadString(fields, root, "name", required: true);
                if (name != null) name = CheckText(fields["name"].Value, "name", name, MaxNameLength);
                string? className = ReadString(fields, root, "class_name", required: false);
                bool classNameFromFile = className == null && !fields.ContainsKey("class_name");
                if (className != null && ClassNameProblem(className) is string classProblem)
                {
                    Report(DiagnosticDescriptors.InvalidValue, fields["class_name"].Value, "class_name", CSharpText.Quoted(className), classProblem);
                }
                if (classNameFromFile)
                {
                    className = ClassNameFromFile(_path);
                    if (ClassNameProblem(className) is string fileProblem)
                    {
                        Report(DiagnosticDescriptors.InvalidValue, root.Start, 1, "class_name (taken from the file name)",
                            CSharpText.Quoted(className), fileProblem + "; set 'class_name'");
                    }
                }

                int depth = 0;
                int[]? blocks = null;
                fields.TryGetValue("depth", out var depthField);
                fields.TryGetValue("blocks", out var blocksField);
                if (depthField != null && blocksField != null)
                {
                    Report(DiagnosticDescriptors.InvalidValue, blocksField.Value, "blocks", "given together with 'depth'", "either 'depth' or 'blocks', not both");
                }
                else if (depthField != null)
                {
                    int? d = ReadInt(depthField);
                    if (d is int dv)
                    {
                        if (BlocksByDepth.TryGetValue(dv, out var b))
                        {
                            depth = dv;
                            blocks = b;
                        }
                        else
                        {
                            Report(DiagnosticDescriptors.UnsupportedDepth, depthField.Value, dv.ToString(CultureInfo.InvariantCulture));
                        }
                    }
                }
                else if (blocksField != null)
                {
                    blocks = ReadIntArray(blocksField, 4, min: 1, max: 64, "4 integers between 1 and 64, e.g. [3, 4, 6, 3]");
                }
                else
                {
                    Report(DiagnosticDescriptors.MissingField, root.Start, 1, "depth", "50, 101 or 152; or 'blocks' per stage");
                }

                int? baseWidth = ReadInt(fields, root, "base_width", required: true, min: 0, max: 4096);
                int? scales = ReadInt(fields, root, "scales", required: false, min: int.MinValue, max: 64);
                if (!fields.ContainsKey("scales"))
                {
                    Report(DiagnosticDescriptors.MissingField, root.Start, 1, "scales", "number of splits per Bottle2neck, >= 2");
                }
                else if (scales is int s && s < 2)
                {
                    Report(DiagnosticDescriptors.ScalesTooSmall, fields["scales"].Value, s.ToString(CultureInfo.InvariantCulture));
                    scales = null;
                }

                var stem = StemKind.Plain;
                string? stemText = ReadString(fields, root, "stem", required: false);
                if (stemText == "deep") stem = StemKind.Deep;
                else if (stemText != null && stemText != "plain")
                {
                    Report(DiagnosticDescriptors.InvalidValue, fields["stem"].Value, "stem", CSharpText.Quoted(stemText), "\"plain\" or \"deep\"");
                }

                bool avgDown = ReadBool(fields, "avg_down") ?? false;
                int? stemChannels = ReadInt(fields, root, "stem_channels", required: false, min: 2, max: 4096);
                if (stemChannels is int sc && sc % 2 != 0 && stem == StemKind.Deep)
                {
                    Report(DiagnosticDescriptors.InvalidValue, fields["stem_channels"].Value, "stem_channels", sc.ToString(CultureInfo.InvariantCulture), "an even number with a deep stem, whose first convs have stem_channels / 2 outputs");
                }
                int? baseChannels = ReadInt(fields, root, "base_channels", required: false, min: 1, max: 4096);
                int? numClasses = ReadInt(fields, root, "num_classes", required: true, min: 1, max: 1_000_000);

                int[]? inputSize = null;
                if (fields.TryGetValue("input_size", out var inputField))
                {
                    inputSize = ReadIntArray(inputField, 2, min: 1, max: 8192, "[height, width], each between 1 and 8192");
                    if (inputSize != null && (inputSize[0] < TotalStride || inputSize[1] < TotalStride))
                    {
                        Report(DiagnosticDescriptors.InputTooSmall, inputField.Value,
                            inputSize[0].ToString(CultureInfo.InvariantCulture), inputSize[1].ToString(CultureInfo.InvariantCulture),
                            TotalStride.ToString(CultureInfo.InvariantCulture));
                    }
                }
                else
                {
                    Report(DiagnosticDescriptors.MissingField, root.Start, 1, "input_size", "[height, width]");
                }

                int bc = baseChannels ?? 64;
                if (baseWidth is int bw && bc > 0 && (long)bc * bw / bc == 0)
                {
                    Report(DiagnosticDescriptors.ZeroWidth, fields["base_width"].Value,
                        bw.ToString(CultureInfo.InvariantCulture), bc.ToString(CultureInfo.InvariantCulture), bc.ToString(CultureInfo.InvariantCulture));
                }

                string? url = null, sha = null;
                if (fields.TryGetValue("checkpoint", out var checkpointField))
                {
                    (url, sha) = ReadCheckpoint(checkpointField.Value);
                }

                // mmpretrain's test pipelines crop 87.5 % of the resized short edge (256 → 224); the edge must also
                // hold the crop's longer side, since the image may come in either orientation.
                int resizeEdge = inputSize == null ? 0
                    : Math.Max(Math.Min(inputSize[0], inputSize[1]) * 256 / 224, Math.Max(inputSize[0], inputSize[1]));
                float[] mean = ImageNetMean, std = ImageNetStd;
                if (fields.TryGetValue("preprocess", out var preprocessField))
                {
                    (resizeEdge, mean, std) = ReadPreprocess(preprocessField.Value, resizeEdge, inputSize);
                }

                string[] classNames = new string[0];
                if (fields.TryGetValue("class_names", out var classField))
                {
                    classNames = ReadClassNames(classField.Value, numClasses) ?? classNames;
                }

                if (Diagnostics.Count > 0) return (null, null);
                var spec = new NetworkSpec(
                    name!, className!, _path, depth, blocks!.ToEquatableArray(), baseWidth!.Value, scales!.Value, stem, avgDown,
                    stemChannels ?? 64, bc, numClasses!.Value, inputSize![0], inputSize[1], url, sha,
                    resizeEdge, mean.ToEquatableArray(), std.ToEquatableArray(), classNames.ToEquatableArray(), SpecHash.Of(_text));

                // A spec is valid only if it can be planned: every shape, offset and count must fit the types the
                // emitted code and the runtime use. Planning takes milliseconds, so it is tried here, where the
                // JSON locations are known, and the spec is refused with RN0012 instead of reaching the emitter.
                Lowering.Cpu.CpuProgram plan;
                try
                {
                    plan = Plan(spec);
                }
                catch (PlanTooLargeException e)
                {
                    Report(DiagnosticDescriptors.NetworkTooLarge, inputField!.Value, e.Message);
                    return (null, null);
                }
                var clash = MemberNames(plan).FirstOrDefault(m => m.Name == className);
                if (clash.Name != null)
                {
                    string problem = $"a name other than {clash.What}";
                    if (classNameFromFile) Report(DiagnosticDescriptors.InvalidValue, root.Start, 1, "class_name (taken from the file name)", CSharpText.Quoted(className!), problem + "; set 'class_name'");
                    else Report(DiagnosticDescriptors.InvalidValue, fields["class_name"].Value, "class_name", CSharpText.Quoted(className!), problem);
                    return (null, null);
                }

                var locations = new SpecLocations(
                    Span(fields["name"].Value),
                    classNameFromFile ? SourceSpan.In(_text, root.Start, 1) : Span(fields["class_name"].Value),
                    classNameFromFile);
                return (spec, locations);
            }

            /// <summary>
            /// Text that reaches generated code, messages and terminals: refused if it holds a character no one
            /// types on purpose into a name (a control character or line break, a bidirectional control, a lone
            /// surrogate), or is longer than <paramref name="maxLength"/>.
            /// </summary>
            private string? CheckText(JsonNode node, string field, string value, int maxLength)
            {
                int bad = CSharpText.FirstUnsafe(value);
                if (bad >= 0)
                {
                    Report(DiagnosticDescriptors.InvalidValue, node, field, CSharpText.Quoted(value),
                        $"text without control characters, line breaks or bidirectional controls (U+{(int)value[bad]:X4} at character {bad})");
                    return null;
                }
                if (value.Length > maxLength)
                {
                    Report(DiagnosticDescriptors.InvalidValue, node, field, $"{value.Length} characters long", $"at most {maxLength} characters");
                    return null;
                }
                return value;
            }

            private SourceSpan Span(JsonNode node) => SourceSpan.In(_text, node.Start, Math.Max(node.Length, 1));

            private (string? Url, string? Sha) ReadCheckpoint(JsonNode node)
            {
                if (node.Kind != JsonKind.Object)
                {
                    Report(DiagnosticDescriptors.WrongType, node, "checkpoint", "an object with 'url' and 'sha256'", node.KindName);
                    return (null, null);
                }
                string? url = null, sha = null;
                foreach (var p in node.Properties)
                {
                    if (p.Name == "url")
                    {
                        url = ExpectString(p, "checkpoint.url");
                        if (url != null && CheckpointUrl.Problem(url) is string problem)
                        {
                            Report(DiagnosticDescriptors.InvalidValue, p.Value, "checkpoint.url", CSharpText.Quoted(url), problem);
                            url = null;
                        }
                    }
                    else if (p.Name == "sha256")
                    {
                        sha = ExpectString(p, "checkpoint.sha256");
                        if (sha != null && (sha.Length < 8 || sha.Length > 64 || !sha.All(IsLowerHex)))
                        {
                            Report(DiagnosticDescriptors.InvalidValue, p.Value, "checkpoint.sha256", CSharpText.Quoted(sha), "8 to 64 lowercase hex digits, the prefix of the file's SHA-256 (as in the file name)");
                        }
                    }
                    else
                    {
                        Report(DiagnosticDescriptors.UnknownField, p.NameStart, p.NameLength, "checkpoint." + p.Name, "checkpoint.url, checkpoint.sha256");
                    }
                }
                if (url == null && !node.Properties.Any(p => p.Name == "url")) Report(DiagnosticDescriptors.MissingField, node.Start, 1, "checkpoint.url", "where the pretrained weights are downloaded from");
                if (sha == null && !node.Properties.Any(p => p.Name == "sha256")) Report(DiagnosticDescriptors.MissingField, node.Start, 1, "checkpoint.sha256", "the SHA-256 prefix that the download must match");
                return (url, sha);
            }

            private (int ResizeEdge, float[] Mean, float[] Std) ReadPreprocess(JsonNode node, int resizeEdge, int[]? inputSize)
            {
                float[] mean = ImageNetMean, std = ImageNetStd;
                if (node.Kind != JsonKind.Object)
                {
                    Report(DiagnosticDescriptors.WrongType, node, "preprocess", "an object with 'resize_edge', 'mean' and 'std'", node.KindName);
                    return (resizeEdge, mean, std);
                }
                foreach (var p in node.Properties)
                {
                    switch (p.Name)
                    {
                        case "resize_edge":
                            if (ReadIntNode(p.Value, "preprocess.resize_edge") is int edge)
                            {
                                int crop = inputSize == null ? 1 : Math.Max(inputSize[0], inputSize[1]);
                                if (edge < crop || edge > 16384)
                                {
                                    Report(DiagnosticDescriptors.InvalidValue, p.Value, "preprocess.resize_edge", edge.ToString(CultureInfo.InvariantCulture),
                                        $"at least the larger side of input_size ({crop}), so the center crop fits inside the resized image");
                                }
                                resizeEdge = edge;
                            }
                            break;
                        case "mean":
                            mean = ReadTriple(p, "preprocess.mean", positive: false) ?? mean;
                            break;
                        case "std":
                            std = ReadTriple(p, "preprocess.std", positive: true) ?? std;
                            break;
                        default:
                            Report(DiagnosticDescriptors.UnknownField, p.NameStart, p.NameLength, "preprocess." + p.Name,
                                "preprocess.resize_edge, preprocess.mean, preprocess.std");
                            break;
                    }
                }
                return (resizeEdge, mean, std);
            }

            private float[]? ReadTriple(JsonProperty p, string field, bool positive)
            {
                var node = p.Value;
                if (node.Kind != JsonKind.Array || node.Items.Count != 3)
                {
                    Report(DiagnosticDescriptors.WrongType, node, field, "an array of 3 numbers (R, G, B)",
                        node.Kind == JsonKind.Array ? $"an array of {node.Items.Count} items" : node.KindName);
                    return null;
                }
                var values = new float[3];
                for (int i = 0; i < 3; i++)
                {
                    var item = node.Items[i];
                    if (item.Kind != JsonKind.Number ||
                        !double.TryParse(item.NumberText, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ||
                        double.IsInfinity((float)v) || (positive && v <= 0))
                    {
                        Report(DiagnosticDescriptors.InvalidValue, item, $"{field}[{i}]", item.NumberText ?? item.KindName,
                            positive ? "a positive number" : "a number");
                        return null;
                    }
                    values[i] = (float)v;
                }
                return values;
            }

            private string[]? ReadClassNames(JsonNode node, int? numClasses)
            {
                if (node.Kind != JsonKind.Array || node.Items.Any(i => i.Kind != JsonKind.String))
                {
                    Report(DiagnosticDescriptors.WrongType, node, "class_names", "an array of strings", node.KindName);
                    return null;
                }
                if (numClasses is int n && node.Items.Count != n)
                {
                    Report(DiagnosticDescriptors.InvalidValue, node, "class_names", $"a list of {node.Items.Count} names",
                        $"one name for each of the {n} classes (num_classes)");
                    return null;
                }
                var names = new string[node.Items.Count];
                bool ok = true;
                for (int i = 0; i < names.Length; i++)
                {
                    names[i] = CheckText(node.Items[i], $"class_names[{i}]", node.Items[i].StringValue!, MaxNameLength)!;
                    ok &= names[i] != null;
                }
                return ok ? names : null;
            }

            private string? ReadString(Dictionary<string, JsonProperty> fields, JsonNode root, string field, bool required)
            {
                if (!fields.TryGetValue(field, out var p))
                {
                    if (required) Report(DiagnosticDescriptors.MissingField, root.Start, 1, field, Expected(field));
                    return null;
                }
                string? value = ExpectString(p, field);
                if (value != null && value.Trim().Length == 0)
                {
                    Report(DiagnosticDescriptors.InvalidValue, p.Value, field, "empty", "a non-empty string");
                    return null;
                }
                return value;
            }

            private string? ExpectString(JsonProperty p, string field)
            {
                if (p.Value.Kind == JsonKind.String) return p.Value.StringValue;
                Report(DiagnosticDescriptors.WrongType, p.Value, field, "a string", p.Value.KindName);
                return null;
            }

            private bool? ReadBool(Dictionary<string, JsonProperty> fields, string field)
            {
                if (!fields.TryGetValue(field, out var p)) return null;
                if (p.Value.Kind == JsonKind.True) return true;
                if (p.Value.Kind == JsonKind.False) return false;
                Report(DiagnosticDescriptors.WrongType, p.Value, field, "true or false", p.Value.KindName);
                return null;
            }

            private int? ReadInt(Dictionary<string, JsonProperty> fields, JsonNode root, string field, bool required, int min, int max)
            {
                if (!fields.TryGetValue(field, out var p))
                {
                    if (required) Report(DiagnosticDescriptors.MissingField, root.Start, 1, field, Expected(field));
                    return null;
                }
                int? value = ReadInt(p);
                if (value is int v && (v < min || v > max))
                {
                    Report(DiagnosticDescriptors.InvalidValue, p.Value, field, v.ToString(CultureInfo.InvariantCulture),
                        $"an integer between {min} and {max}");
                    return null;
                }
                return value;
            }

            private int? ReadInt(JsonProperty p) => ReadIntNode(p.Value, p.Name);

            private int? ReadIntNode(JsonNode node, string field)
            {
                if (node.Kind == JsonKind.Number &&
                    int.TryParse(node.NumberText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v))
                {
                    return v;
                }
                string found = node.Kind == JsonKind.Number ? "the number " + node.NumberText : node.KindName;
                Report(DiagnosticDescriptors.WrongType, node, field, "an integer", found);
                return null;
            }

            private int[]? ReadIntArray(JsonProperty p, int count, int min, int max, string expected)
            {
                var node = p.Value;
                if (node.Kind != JsonKind.Array)
                {
                    Report(DiagnosticDescriptors.WrongType, node, p.Name, expected, node.KindName);
                    return null;
                }
                if (node.Items.Count != count)
                {
                    Report(DiagnosticDescriptors.InvalidValue, node, p.Name,
                        $"an array of {node.Items.Count} items", expected);
                    return null;
                }
                var result = new int[count];
                bool ok = true;
                for (int i = 0; i < count; i++)
                {
                    int? v = ReadIntNode(node.Items[i], $"{p.Name}[{i}]");
                    if (v is int iv && iv >= min && iv <= max)
                    {
                        result[i] = iv;
                    }
                    else
                    {
                        if (v is int bad)
                        {
                            Report(DiagnosticDescriptors.InvalidValue, node.Items[i], $"{p.Name}[{i}]", bad.ToString(CultureInfo.InvariantCulture), expected);
                        }
                        ok = false;
                    }
                }
                return ok ? result : null;
            }

            private void Report(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, JsonNode node, params string[] args) =>
                Report(descriptor, node.Start, Math.Max(node.Length, 1), args);

            private void Report(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, int start, int length, params string[] args)
            {
                Diagnostics.Add(new DiagnosticInfo(descriptor.Id, _path, SourceSpan.In(_text, start, length), args.ToEquatableArray()));
            }

            private static string Expected(string field) => SpecFields.First(f => f.Name == field).Expected;
        }

        /// <summary>Longest <c>name</c> or class label a spec may give: far above any real one, small enough to print.</summary>
        internal const int MaxNameLength = 256;

        private static bool IsLowerHex(char c) => (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');

        /// <summary>Why <paramref name="className"/> cannot name a generated class, or null if it can.</summary>
        internal static string? ClassNameProblem(string className)
        {
            if (CSharpText.IsKeyword(className)) return "a C# identifier that is not a keyword";
            if (!CSharpText.IsPlainIdentifier(className))
            {
                return $"a C# identifier of at most {CSharpText.MaxIdentifierLength} ASCII letters, digits and '_', not starting with a digit";
            }
            if (EmittedNames.IsTaken(className)) return "a name that generated code does not already use (it declares or refers to this one)";
            return null;
        }

        /// <summary>
        /// <c>res2net50-w14-s8.json</c> becomes <c>Res2Net50W14S8</c>: the file name, not the long
        /// mmpretrain name, because that is what a user sees in the project.
        /// </summary>
        internal static string ClassNameFromFile(string path)
        {
            string stem = Path.GetFileNameWithoutExtension(path);
            var sb = new StringBuilder();
            bool upper = true;
            foreach (char c in stem)
            {
                if (!char.IsLetterOrDigit(c))
                {
                    upper = true;
                    continue;
                }
                sb.Append(upper ? char.ToUpperInvariant(c) : c);
                upper = char.IsDigit(c);
            }
            string name = sb.ToString().Replace("Res2net", "Res2Net");
            if (name.Length == 0 || char.IsDigit(name[0])) name = "Network" + name;
            return name;
        }
    }
}
