using System.Globalization;
using System.Text;

namespace Res2Net.Runtime.IO;

/// <summary>
/// The header of a .npy file is a Python dict literal, e.g. <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (2, 3), }</c>.
/// numpy itself parses it with ast.literal_eval; this is a small literal parser for the subset numpy writes
/// (strings, ints, booleans, None, tuples, lists, dicts), with nesting bounded so odd headers fail instead of recursing.
/// </summary>
internal sealed record NpyHeader(string Descr, bool FortranOrder, long[] Shape)
{
    private const int MaxNesting = 16;

    public static NpyHeader Parse(string text, string file)
    {
        var parser = new LiteralParser(text, file);
        object? value = parser.ParseDocument();
        if (value is not Dictionary<string, object?> dict) throw new NpyException(file, "header", "is not a dict literal");

        foreach (string key in dict.Keys)
            if (key is not ("descr" or "fortran_order" or "shape"))
                throw new NpyException(file, "header", $"unexpected key '{key}'; expected exactly 'descr', 'fortran_order' and 'shape'");

        if (!dict.TryGetValue("descr", out var descr)) throw new NpyException(file, "descr", "missing");
        if (descr is not string descrText)
            throw new NpyException(file, "descr", "structured (record) dtypes are not supported; expected float32 '<f4'");
        if (!dict.TryGetValue("fortran_order", out var fortran) || fortran is not bool fortranOrder)
            throw new NpyException(file, "fortran_order", "missing or not True/False");
        if (!dict.TryGetValue("shape", out var shapeValue) || shapeValue is not PyTupleLiteral shapeItems)
            throw new NpyException(file, "shape", "missing or not a tuple");
        var shape = new long[shapeItems.Items.Count];
        for (int i = 0; i < shape.Length; i++)
        {
            if (shapeItems.Items[i] is not long dim || dim < 0)
                throw new NpyException(file, "shape", $"dimension {i} is not a non-negative integer");
            shape[i] = dim;
        }
        return new NpyHeader(descrText, fortranOrder, shape);
    }

    /// <summary>A tuple literal; lists stay <see cref="List{T}"/> so that a list-valued shape is rejected like numpy does.</summary>
    private sealed record PyTupleLiteral(List<object?> Items);

    private sealed class LiteralParser(string text, string file)
    {
        private int _pos;

        public object? ParseDocument()
        {
            object? value = ParseValue(0);
            SkipSpace();
            if (_pos != text.Length) throw Error("unexpected text after the dict literal");
            return value;
        }

        private object? ParseValue(int depth)
        {
            if (depth > MaxNesting) throw Error($"nested deeper than {MaxNesting} levels");
            SkipSpace();
            if (_pos >= text.Length) throw Error("ends in the middle of a value");
            char c = text[_pos];
            switch (c)
            {
                case '{':
                {
                    _pos++;
                    var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
                    while (true)
                    {
                        SkipSpace();
                        if (TryConsume('}')) return dict;
                        if (ParseValue(depth + 1) is not string key) throw Error("dict keys must be strings");
                        SkipSpace();
                        if (!TryConsume(':')) throw Error($"expected ':' after key '{key}'");
                        if (!dict.TryAdd(key, ParseValue(depth + 1))) throw Error($"key '{key}' appears twice");
                        SkipSpace();
                        if (TryConsume('}')) return dict;
                        if (!TryConsume(',')) throw Error("expected ',' or '}' in dict");
                    }
                }
                case '(':
                case '[':
                {
                    _pos++;
                    char close = c == '(' ? ')' : ']';
                    var items = new List<object?>();
                    bool sawComma = false;
                    while (true)
                    {
                        SkipSpace();
                        if (TryConsume(close)) break;
                        items.Add(ParseValue(depth + 1));
                        SkipSpace();
                        if (TryConsume(close)) break;
                        if (!TryConsume(',')) throw Error($"expected ',' or '{close}'");
                        sawComma = true;
                    }
                    if (c == '[') return items;
                    // "(5)" is just 5 in Python; a one-element tuple needs its comma.
                    return items.Count == 1 && !sawComma ? items[0] : new PyTupleLiteral(items);
                }
                case '\'':
                case '"':
                    return ParseString(c);
                default:
                    if (c == '-' || char.IsAsciiDigit(c)) return ParseInteger();
                    if (char.IsAsciiLetter(c)) return ParseName();
                    throw Error($"unexpected character '{c}'");
            }
        }

        private string ParseString(char quote)
        {
            _pos++;
            var sb = new StringBuilder();
            while (_pos < text.Length && text[_pos] != quote)
            {
                if (text[_pos] == '\\' && _pos + 1 < text.Length) _pos++;
                sb.Append(text[_pos++]);
            }
            if (_pos >= text.Length) throw Error("unterminated string");
            _pos++;
            return sb.ToString();
        }

        private long ParseInteger()
        {
            int start = _pos;
            if (text[_pos] == '-') _pos++;
            while (_pos < text.Length && char.IsAsciiDigit(text[_pos])) _pos++;
            string digits = text[start.._pos];
            if (_pos < text.Length && text[_pos] == 'L') _pos++; // Python 2 long suffix
            if (!long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
                throw Error($"integer '{(digits.Length > 30 ? digits[..30] + "..." : digits)}' out of range");
            return value;
        }

        private object? ParseName()
        {
            int start = _pos;
            while (_pos < text.Length && char.IsAsciiLetterOrDigit(text[_pos])) _pos++;
            return text[start.._pos] switch
            {
                "True" => true,
                "False" => false,
                "None" => null,
                var other => throw Error($"unexpected name '{(other.Length > 30 ? other[..30] : other)}'"),
            };
        }

        private void SkipSpace()
        {
            while (_pos < text.Length && char.IsWhiteSpace(text[_pos])) _pos++;
        }

        private bool TryConsume(char c)
        {
            if (_pos < text.Length && text[_pos] == c)
            {
                _pos++;
                return true;
            }
            return false;
        }

        private NpyException Error(string cause) => new(file, "header", cause);
    }
}
