using System.Collections.Generic;

namespace Res2Net.Generator.Parsing
{
    internal enum JsonKind { Object, Array, String, Number, True, False, Null }

    /// <summary>
    /// A JSON value that remembers where it stands in the spec file, so that every diagnostic
    /// can point at the offending token rather than at the whole file.
    /// </summary>
    internal sealed class JsonNode
    {
        public JsonNode(JsonKind kind, int start, int length)
        {
            Kind = kind;
            Start = start;
            Length = length;
        }

        public JsonKind Kind { get; }

        /// <summary>Character offset of the value's first character in the spec text.</summary>
        public int Start { get; }

        public int Length { get; set; }

        public string? StringValue { get; set; }

        /// <summary>The number's literal text; kept as text so that 14 and 14.0 can be told apart.</summary>
        public string? NumberText { get; set; }

        public List<JsonProperty> Properties { get; } = new();

        public List<JsonNode> Items { get; } = new();

        public string KindName => Kind switch
        {
            JsonKind.Object => "an object",
            JsonKind.Array => "an array",
            JsonKind.String => "a string",
            JsonKind.Number => "a number",
            JsonKind.True or JsonKind.False => "a boolean",
            _ => "null",
        };
    }

    internal sealed class JsonProperty
    {
        public JsonProperty(string name, int nameStart, int nameLength, JsonNode value)
        {
            Name = name;
            NameStart = nameStart;
            NameLength = nameLength;
            Value = value;
        }

        public string Name { get; }

        public int NameStart { get; }

        public int NameLength { get; }

        public JsonNode Value { get; }
    }
}
